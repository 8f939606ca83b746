package ai.distill.optimizer.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.store.rows.RowsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Distils the PyTorch-exported fixture teacher from generated inputs only and evaluates on the
 * fixture's labelled rows. Small here (20k rows, one epoch); the full-size target run is the {@code
 * distill --generate-fixture-inputs 200000} command.
 */
class FixtureConformanceTest {

  private static Path fixture() {
    String shared = System.getProperty("distill.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "fixtures", "ctr-mlp-torch");
    Assumptions.assumeTrue(
        dir != null && Files.isRegularFile(dir.resolve("model.onnx")),
        "skipped: fixture ctr-mlp-torch not found (set -Ddistill.shared.dir to the shared directory)");
    return dir;
  }

  @Test
  void fixture_teacher_signature_is_mirrored() throws Exception {
    OnnxModel teacher = OnnxModel.load(fixture().resolve("model.onnx"));
    TeacherSignature sig = TeacherSignature.of(teacher.proto());
    assertEquals(
        "(dense FLOAT [N, 13], sparse INT64 [N, 26]) -> prob FLOAT [N, 1]", sig.toString());
    ModelCost cost = ModelCost.of(teacher);
    // dense projection 13→16, then the MLP 432→512→256→128→1
    assertEquals(2L * (13 * 16 + 432 * 512 + 512 * 256 + 256 * 128 + 128), cost.flopsPerRow());
    assertEquals(802273, cost.parameters());
  }

  @Test
  void student_distilled_from_generated_inputs_nearly_matches_the_teacher_on_labelled_rows()
      throws Exception {
    Path dir = fixture();
    OnnxModel teacher = OnnxModel.load(dir.resolve("model.onnx"));
    TeacherSignature sig = TeacherSignature.of(teacher.proto());
    RowTable generated = FixtureInputs.generate(sig, 20_000, 1);
    assertEquals(0, generated.labelledRows());
    RowTable labelled;
    try (RowsReader r = RowsReader.open(dir.resolve("rows.jsonl"))) {
      labelled = RowTable.fromRows(sig.columns(), r, 0);
    }
    assertEquals(20_000, labelled.labelledRows());
    DistillOptions options =
        DistillOptions.defaults()
            .withStudent(
                StudentConfig.defaults().withEmbeddingDim(8).withHidden(64, 32).withEpochs(1));
    DistillResult r =
        Distiller.distill(teacher, "fixture", generated, labelled, options, ProgressListener.NONE);
    assertEquals(0.7725, r.metric("teacher_auc"), 0.001);
    assertTrue(
        r.metric("auc") > r.metric("teacher_auc") - 0.02,
        "student AUC " + r.metric("auc") + " vs teacher " + r.metric("teacher_auc"));
    assertTrue(r.metric("agreement_spearman") > 0.8, "agreement " + r.metric("agreement_spearman"));
    assertTrue(r.metric("flops_ratio") <= 1.0 / 8, "flops ratio " + r.metric("flops_ratio"));
    assertTrue(r.metric("export_max_abs_diff") <= 1e-5);
  }
}
