package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.JobCancelledException;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeJobTest {

  /** Records (stage, fraction) and cancels once {@code cancelAt} has been reported. */
  static final class Recorder implements ProgressListener {
    final List<String> stages = new ArrayList<>();
    final List<Double> fractions = new ArrayList<>();
    final String cancelAt;

    Recorder(String cancelAt) {
      this.cancelAt = cancelAt;
    }

    @Override
    public void progress(String stage, double fraction, String message) {
      stages.add(stage);
      fractions.add(fraction);
    }

    @Override
    public boolean cancelRequested() {
      return cancelAt != null && stages.contains(cancelAt);
    }
  }

  private static ModelStore store(Path dir) {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "mlp", TinyModels.mlp(4, new int[] {8}, 1).toBytes(), Role.TEACHER));
    return store;
  }

  private static Path writeRows(Path file) throws Exception {
    List<String> lines = new ArrayList<>();
    for (Row r : TestRows.gaussian("x", 4, 400, 1)) {
      lines.add(
          "{\"inputs\": {\"x\": "
              + Arrays.toString(r.input("x").values())
              + "}, \"label\": "
              + r.label()
              + "}");
    }
    return Files.write(file, lines);
  }

  private static QuantizeJob.Request request(Path rows) {
    return new QuantizeJob.Request(
        "mlp",
        rows,
        "mlp-int8",
        QuantizeOptions.builder()
            .method(CalibrationMethod.MINMAX)
            .speedCheck(false)
            .maxAucDrop(0.05)
            .build());
  }

  @Test
  void reports_stages_with_rising_fractions_and_publishes_a_student(@TempDir Path dir)
      throws Exception {
    ModelStore store = store(dir);
    Path rows = writeRows(dir.resolve("rows.jsonl"));
    Recorder r = new Recorder(null);
    QuantizeJob.Outcome o = QuantizeJob.run(store, request(rows), r);
    assertEquals("mlp-int8:1", o.published().id());
    assertEquals("mlp:1", store.resolve("mlp-int8").manifest().parent());
    assertEquals("mlp-int8:1", o.summary().get("published"));
    assertTrue(
        r.stages.containsAll(List.of("read", "calibrate", "evaluate", "sensitivity")),
        r.stages.toString());
    for (int i = 1; i < r.fractions.size(); i++) {
      assertTrue(r.fractions.get(i) >= r.fractions.get(i - 1), r.fractions.toString());
    }
    assertTrue(r.fractions.stream().allMatch(f -> f >= 0 && f <= 1), r.fractions.toString());
  }

  @Test
  void cancellation_stops_the_job_and_publishes_nothing(@TempDir Path dir) throws Exception {
    ModelStore store = store(dir);
    Path rows = writeRows(dir.resolve("rows.jsonl"));
    JobCancelledException e =
        assertThrows(
            JobCancelledException.class,
            () -> QuantizeJob.run(store, request(rows), new Recorder("calibrate")));
    assertEquals("calibrate", e.stage());
    assertEquals(List.of("mlp"), store.modelNames());
  }
}
