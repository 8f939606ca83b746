package ai.distill.optimizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The optimizer commands refuse a stored model whose file no longer matches its manifest, as the
 * gateway does.
 */
class StoreIntegrityCommandTest {

  @TempDir Path dir;
  Path storeDir;
  Path rows;

  @BeforeEach
  void tampered_store() throws Exception {
    storeDir = dir.resolve("store");
    ModelStore store = ModelStore.open(storeDir);
    store.publish(
        PublishRequest.fromBytes(
            "ctr", TinyModels.ctrModel(5, 3, 1000, 16, new int[] {8}, 11).toBytes(), Role.TEACHER));
    ModelVersion good =
        store.publish(
            PublishRequest.fromBytes(
                "good",
                TinyModels.ctrModel(5, 3, 1000, 16, new int[] {8}, 12).toBytes(),
                Role.TEACHER));
    assertEquals("good:1", good.id());
    ModelVersion v = store.resolve("ctr");
    v.modelFile().toFile().setWritable(true);
    Files.write(v.modelFile(), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
    rows =
        QuantizeCommandTest.writeRows(dir.resolve("rows.jsonl"), TestRows.ctr(5, 3, 1000, 50, 5));
  }

  private void assertRefused(String command, QuantizeCommandTest.Run r) {
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().startsWith(command + ": model file "), r.err());
    assertTrue(r.err().contains("of ctr:1 is corrupt: expected sha256"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one-line reason: " + r.err());
  }

  @Test
  void quantize_refuses_a_tampered_model() {
    assertRefused(
        "quantize",
        QuantizeCommandTest.run(
            new QuantizeCommand(),
            "--store",
            storeDir.toString(),
            "--model",
            "ctr",
            "--data",
            rows.toString(),
            "--no-speed-check",
            "--name",
            "ctr-int8"));
  }

  @Test
  void evaluate_refuses_a_tampered_model() {
    assertRefused(
        "evaluate",
        QuantizeCommandTest.run(
            new EvaluateCommand(),
            "--store",
            storeDir.toString(),
            "--model",
            "ctr",
            "--data",
            rows.toString()));
  }

  @Test
  void distill_refuses_a_tampered_teacher() {
    assertRefused(
        "distill",
        QuantizeCommandTest.run(
            new DistillCommand(),
            "--store",
            storeDir.toString(),
            "--teacher",
            "ctr",
            "--data",
            rows.toString(),
            "--name",
            "student"));
  }

  @Test
  void bench_refuses_a_tampered_reference() {
    assertRefused(
        "bench",
        QuantizeCommandTest.run(
            new BenchCommand(),
            "--store",
            storeDir.toString(),
            "--model",
            "good",
            "--reference",
            "ctr",
            "--data",
            rows.toString(),
            "--seconds",
            "0.01"));
  }
}
