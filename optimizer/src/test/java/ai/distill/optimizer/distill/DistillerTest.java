package ai.distill.optimizer.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.optimizer.train.StudentNet;
import ai.distill.optimizer.train.TrainingSet;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DistillerTest {

  static final OnnxModel TEACHER = TinyModels.ctrModel(4, 6, 20, 4, new int[] {16}, 7);

  /** Random inputs for a dense+sparse signature; labels drawn from {@code probs} when given. */
  static RowTable table(TeacherSignature sig, int rows, long seed) {
    Random r = new Random(seed);
    Object[] cols = new Object[sig.inputs().size()];
    for (int k = 0; k < cols.length; k++) {
      TeacherSignature.Input in = sig.inputs().get(k);
      if (in.kind() == TeacherSignature.Kind.DENSE) {
        float[] f = new float[rows * in.width()];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) r.nextGaussian();
        }
        cols[k] = f;
      } else {
        long[] l = new long[rows * in.width()];
        for (int i = 0; i < l.length; i++) {
          l[i] = r.nextInt(20);
        }
        cols[k] = l;
      }
    }
    return RowTable.of(sig.columns(), rows, cols, null);
  }

  static RowTable withLabels(RowTable t, float[] probs, long seed) {
    Random r = new Random(seed);
    byte[] y = new byte[t.rows()];
    for (int i = 0; i < y.length; i++) {
      y[i] = (byte) (r.nextDouble() < probs[i] ? 1 : 0);
    }
    Object[] cols = new Object[t.columns().size()];
    for (int k = 0; k < cols.length; k++) {
      cols[k] = t.values(k);
    }
    return RowTable.of(t.columns(), t.rows(), cols, y);
  }

  static float[] teacherProbs(RowTable t) {
    try (TableScorer s =
        TableScorer.open(TEACHER.toBytes(), "teacher", TableScorer.Options.defaults())) {
      return Distiller.probabilities(s, t, "teacher");
    }
  }

  private static DistillOptions fast(int epochs) {
    return DistillOptions.defaults()
        .withMinRows(100)
        .withTeacherThreads(1)
        .withStudent(
            StudentConfig.defaults()
                .withHidden(16, 8)
                .withEmbeddingDim(4)
                .withEpochs(epochs)
                .withBatchSize(64)
                .withPatience(3)
                .withLearningRate(5e-3));
  }

  @Test
  void exported_student_matches_the_trainer_in_onnx_runtime_within_1e_5() {
    TeacherSignature sig = TeacherSignature.of(TEACHER.proto());
    RowTable rows = table(sig, 3000, 1);
    DistillResult r = Distiller.distill(TEACHER, "t:1", rows, null, fast(2), ProgressListener.NONE);
    RowTable fresh = table(sig, 1000, 99);
    // ids outside the training vocabulary are hashed the same way in both
    long[] ids = (long[]) fresh.values(1);
    ids[0] = 1_000_003L;
    ids[1] = -5;
    float[] viaOrt;
    try (TableScorer s = TableScorer.open(r.model(), "student", TableScorer.Options.defaults())) {
      viaOrt = s.score(fresh);
    }
    float[] viaTrainer = r.student().probabilities(sig.trainingSet(fresh));
    assertTrue(
        Distiller.maxAbsDiff(viaOrt, viaTrainer) <= 1e-5,
        "max diff " + Distiller.maxAbsDiff(viaOrt, viaTrainer));
    OnnxModel student = OnnxModel.fromBytes(r.model());
    assertEquals(TEACHER.inputs(), student.inputs());
    assertEquals(TEACHER.outputs(), student.outputs());
    assertTrue((double) r.metrics().get("export_max_abs_diff") <= 1e-5);
  }

  @Test
  void export_mirrors_a_rank_1_output_and_multi_dimensional_inputs() {
    OnnxModel teacher =
        GraphBuilder.create("odd")
            .input("ids", DataType.INT64, -1, 2, 3)
            .input("x", DataType.FLOAT, -1, 5)
            .initializer("w", new float[5], 5, 1)
            .initializer("b", new float[] {0.1f}, 1)
            .gemm("x", "w", "b", "z", false)
            .op("Sigmoid", "z", "p2")
            .reshape("p2", "score", -1)
            .output("score", DataType.FLOAT, -1)
            .build();
    TeacherSignature sig = TeacherSignature.of(teacher.proto());
    assertEquals(6, sig.categoricalColumns());
    assertEquals(1, sig.outputRank());
    RowTable rows = table(sig, 500, 3);
    TrainingSet ts = sig.trainingSet(rows);
    float[][] st = ts.denseStandardization();
    StudentNet net =
        StudentNet.initialize(
            ts.vocabulary(1000),
            st[0],
            st[1],
            StudentConfig.defaults().withHidden(8).withEmbeddingDim(3),
            0.3,
            new Random(1));
    byte[] bytes = StudentExporter.export(net, sig, "test");
    float[] viaOrt;
    try (TableScorer s =
        TableScorer.open(bytes, "student", TableScorer.Options.defaults().withBatchSize(128))) {
      viaOrt = s.score(rows);
    }
    assertTrue(Distiller.maxAbsDiff(viaOrt, net.probabilities(ts)) <= 1e-5);
    assertEquals(teacher.inputs(), OnnxModel.fromBytes(bytes).inputs());
    assertEquals(teacher.outputs(), OnnxModel.fromBytes(bytes).outputs());
  }

  @Test
  void student_on_the_teachers_soft_targets_beats_a_student_on_the_same_rows_labels() {
    TeacherSignature sig = TeacherSignature.of(TEACHER.proto());
    RowTable train = table(sig, 3000, 11);
    RowTable labelled = withLabels(train, teacherProbs(train), 12);
    RowTable eval = table(sig, 10000, 13);
    RowTable evalLabelled = withLabels(eval, teacherProbs(eval), 14);
    DistillOptions options = fast(6);
    DistillResult soft =
        Distiller.distill(TEACHER, "t:1", train, evalLabelled, options, ProgressListener.NONE);
    DistillResult hard =
        Distiller.distill(
            TEACHER, "t:1", labelled, evalLabelled, options.withAlpha(0.0), ProgressListener.NONE);
    assertTrue(
        soft.metric("auc") > hard.metric("auc") + 0.005,
        "soft-target AUC " + soft.metric("auc") + " vs labels-only " + hard.metric("auc"));
    assertTrue(
        soft.metric("agreement_spearman") > hard.metric("agreement_spearman"),
        "agreement "
            + soft.metric("agreement_spearman")
            + " vs "
            + hard.metric("agreement_spearman"));
  }

  @Test
  void same_seed_gives_the_same_student_bytes() {
    TeacherSignature sig = TeacherSignature.of(TEACHER.proto());
    RowTable rows = table(sig, 1500, 5);
    byte[] a =
        Distiller.distill(TEACHER, "t:1", rows, null, fast(1), ProgressListener.NONE).model();
    byte[] b =
        Distiller.distill(TEACHER, "t:1", rows, null, fast(1), ProgressListener.NONE).model();
    assertArrayEquals(a, b);
  }

  @Test
  void progress_reports_every_epoch_with_loss_and_throughput() {
    TeacherSignature sig = TeacherSignature.of(TEACHER.proto());
    RowTable rows = withLabels(table(sig, 1500, 5), teacherProbs(table(sig, 1500, 5)), 6);
    List<String> lines = new ArrayList<>();
    DistillResult r =
        Distiller.distill(TEACHER, "t:1", rows, null, fast(2), ProgressListener.lines(lines::add));
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.startsWith("epoch 1: loss ")
                        && l.contains("held-out AUC")
                        && l.contains("rows/s")),
        lines.toString());
    assertEquals(2, r.training().epochs().size());
    assertTrue(
        r.metric("params_ratio") > 0 && r.metric("flops_ratio") > 0 && r.metric("size_ratio") > 0);
    assertTrue(Double.isFinite(r.metric("auc")) && Double.isFinite(r.metric("teacher_auc")));
    assertEquals(
        BinaryMetrics.mean(teacherProbs(rows)) > 0, r.metric("teacher_mean_prediction") > 0);
  }

  @Test
  void a_float_only_teacher_is_distilled_and_exported() {
    OnnxModel teacher = TinyModels.mlp(5, new int[] {8}, 3);
    TeacherSignature sig = TeacherSignature.of(teacher.proto());
    assertEquals(0, sig.categoricalColumns());
    DistillResult r =
        Distiller.distill(
            teacher, "mlp:1", table(sig, 2000, 4), null, fast(3), ProgressListener.NONE);
    assertTrue(r.metric("export_max_abs_diff") <= 1e-5);
    assertTrue(r.metric("agreement_spearman") > 0.9, "agreement " + r.metric("agreement_spearman"));
    assertEquals(teacher.inputs(), OnnxModel.fromBytes(r.model()).inputs());
  }

  @Test
  void a_teacher_with_two_outputs_or_a_non_probability_output_is_refused() {
    OnnxModel two =
        GraphBuilder.create("two")
            .input("x", DataType.FLOAT, -1, 2)
            .op("Sigmoid", "x", "p")
            .op("Relu", "x", "q")
            .output("p", DataType.FLOAT, -1, 2)
            .output("q", DataType.FLOAT, -1, 2)
            .build();
    UnsupportedTeacherException e =
        assertThrows(UnsupportedTeacherException.class, () -> TeacherSignature.of(two.proto()));
    assertEquals(
        "the teacher has 2 outputs [p, q]; distillation needs exactly one probability output (FLOAT [N] or [N, 1])",
        e.getMessage());
    OnnxModel wide =
        GraphBuilder.create("wide")
            .input("x", DataType.FLOAT, -1, 2)
            .op("Sigmoid", "x", "p")
            .output("p", DataType.FLOAT, -1, 2)
            .build();
    assertTrue(
        assertThrows(UnsupportedTeacherException.class, () -> TeacherSignature.of(wide.proto()))
            .getMessage()
            .contains("has shape [batch, 2]; distillation needs one probability per row"));
    OnnxModel logits =
        GraphBuilder.create("logit")
            .input("x", DataType.FLOAT, -1, 1)
            .op("Identity", "x", "z")
            .output("z", DataType.FLOAT, -1, 1)
            .build();
    TeacherSignature sig = TeacherSignature.of(logits.proto());
    RowTable rows =
        RowTable.of(sig.columns(), 3, new Object[] {new float[] {0.5f, 3f, 0.1f}}, null);
    try (TableScorer s =
        TableScorer.open(logits.toBytes(), "teacher z:1", TableScorer.Options.defaults())) {
      assertEquals(
          "teacher z:1 output 3.0 on row 2 is not a probability in [0, 1]; distillation needs a sigmoid"
              + " (probability) output",
          assertThrows(
                  UnsupportedTeacherException.class,
                  () -> Distiller.probabilities(s, rows, "teacher z:1"))
              .getMessage());
    }
  }

  @Test
  void too_few_rows_are_rejected_with_the_minimum() {
    TeacherSignature sig = TeacherSignature.of(TEACHER.proto());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Distiller.distill(
                    TEACHER, "t:1", table(sig, 50, 1), null, fast(1), ProgressListener.NONE));
    assertTrue(
        e.getMessage().startsWith("too few rows: 50 (expected: at least 100"), e.getMessage());
  }
}
