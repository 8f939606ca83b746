package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QdqRewriterTest {

  private static final int DENSE = 5;
  private static final int SPARSE = 3;
  private static final int VOCAB = 1000;

  static OnnxModel ctr() {
    return TinyModels.ctrModel(DENSE, SPARSE, VOCAB, 16, new int[] {64, 32}, 11);
  }

  static Map<String, Range> calibrate(OnnxModel m, List<QuantTarget> targets, List<Row> rows) {
    Set<String> acts = new LinkedHashSet<>();
    targets.stream().filter(t -> t.activation() != null).forEach(t -> acts.add(t.activation()));
    Map<String, Range> ranges = new LinkedHashMap<>();
    Calibrator.collect(m, acts, TestRows.table(m, rows), 2048, 1, ProgressListener.NONE)
        .forEach((k, h) -> ranges.put(k, CalibrationMethod.MINMAX.range(h, 99.999)));
    return ranges;
  }

  @Test
  void finds_gemm_and_embedding_gather_but_not_the_column_gather() {
    List<QuantTarget> targets = QuantTarget.find(ctr());
    assertEquals(SPARSE + 3, targets.size());
    assertEquals(SPARSE, targets.stream().filter(t -> t.kind() == QuantTarget.Kind.GATHER).count());
    QuantTarget fc0 =
        targets.stream().filter(t -> t.weight().equals("fc0.weight")).findFirst().orElseThrow();
    assertEquals("features", fc0.activation());
    assertEquals(0, fc0.weightAxis());
    assertEquals("fc0.bias", fc0.bias());
  }

  @Test
  void qdq_ctr_model_runs_close_to_fp32_and_forms_integer_kernels() {
    OnnxModel m = ctr();
    List<Row> rows = TestRows.ctr(DENSE, SPARSE, VOCAB, 1200, 1);
    List<QuantTarget> targets = QuantTarget.find(m);
    OnnxModel q =
        QdqRewriter.rewrite(
            m,
            targets,
            calibrate(m, targets, rows.subList(0, 600)),
            QuantizeOptions.defaults(),
            Set.of());
    ModelComparison c =
        Evaluator.compare(
            m.toBytes(),
            q.toBytes(),
            TestRows.table(m, rows.subList(600, 1200)),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.maxAbsDiff() < 0.03, "max |diff| " + c.maxAbsDiff());
    assertTrue(c.meanAbsDiff() < 0.005, "mean |diff| " + c.meanAbsDiff());
    assertTrue(c.spearman() > 0.99, "spearman " + c.spearman());
    KernelCounter.Kernels k = KernelCounter.count(q.toBytes(), 1);
    assertTrue(k.ops().getOrDefault("QGemm", 0) > 0, "no QGemm formed: " + k.ops());
    assertEquals(0, k.floatMatmuls(), "float matmuls left: " + k.ops());
    assertEquals(3, k.integerKernels());
    // the FP32 model has no integer kernels
    assertEquals(0, KernelCounter.count(m.toBytes(), 1).integerKernels());
  }

  @Test
  void relu_activations_get_the_type_minimum_zero_point_for_int8_too() {
    OnnxModel m = TinyModels.mlp(8, new int[] {16, 8}, 4);
    List<Row> rows = TestRows.gaussian("x", 8, 300, 2);
    List<QuantTarget> targets = QuantTarget.find(m);
    QuantizeOptions o = QuantizeOptions.builder().activationType(QuantMath.QType.INT8).build();
    OnnxModel q = QdqRewriter.rewrite(m, targets, calibrate(m, targets, rows), o, Set.of());
    TensorProto zp = q.initializer("fc0_relu_zero_point").orElseThrow();
    assertEquals(DataType.INT8, TensorProtos.type(zp));
    assertEquals(-128, TensorProtos.toLongs(zp)[0]);
    KernelCounter.Kernels k = KernelCounter.count(q.toBytes(), 1);
    assertTrue(k.integerKernels() >= 3, "integer kernels " + k.ops());
    assertEquals(0, k.ops().getOrDefault("Relu", 0), "Relu should be fused away: " + k.ops());
  }

  @Test
  void embedding_tables_shrink_about_four_times() {
    OnnxModel m = ctr();
    List<QuantTarget> targets = QuantTarget.find(m);
    OnnxModel q =
        QdqRewriter.rewrite(
            m,
            targets,
            calibrate(m, targets, TestRows.ctr(DENSE, SPARSE, VOCAB, 100, 1)),
            QuantizeOptions.defaults(),
            Set.of());
    long before = m.initializer("emb0").orElseThrow().getSerializedSize();
    TensorProto t = q.initializer("emb0_quantized").orElseThrow();
    // tables take the activation type (uint8 by default) so a Concat of lookups can stay 8-bit
    assertEquals(DataType.UINT8, TensorProtos.type(t));
    double ratio = (double) t.getSerializedSize() / before;
    assertTrue(ratio > 0.24 && ratio < 0.27, "table ratio " + ratio);
    assertTrue(q.initializer("emb0").isEmpty(), "float table still stored");
    assertTrue(
        q.sizeBytes() < 0.3 * m.sizeBytes(), "model " + q.sizeBytes() + " vs " + m.sizeBytes());
  }

  @Test
  void dequantize_moves_after_shape_only_ops_so_ort_adds_no_qdq_pairs() {
    float[] table = new float[10 * 4];
    for (int i = 0; i < table.length; i++) {
      table[i] = (i % 7 - 3) / 3f;
    }
    OnnxModel m =
        ai.distill.optimizer.onnx.GraphBuilder.create("emb")
            .input("ids", DataType.INT64, -1)
            .input("x", DataType.FLOAT, -1, 1, 4)
            .initializer("table", table, 10, 4)
            .initializerInt64("axes", new long[] {1}, 1)
            .gather("table", "ids", "g", 0)
            .valueInfo("g", DataType.FLOAT, -1, 4)
            .node("Unsqueeze", List.of("g", "axes"), List.of("u"))
            .concat("c", 1, "u", "x")
            .output("c", DataType.FLOAT, -1, 2, 4)
            .build();
    OnnxModel q =
        QdqRewriter.rewrite(m, QuantTarget.find(m), Map.of(), QuantizeOptions.defaults(), Set.of());
    assertTrue(q.graph().getValueInfoList().isEmpty(), "stale float value info for g kept");
    assertEquals("u_quantized", q.nodes().get(1).getOutput(0));
    assertEquals("DequantizeLinear", q.nodes().get(2).getOpType());
    assertEquals("u", q.nodes().get(2).getOutput(0));
    KernelCounter.Kernels k = KernelCounter.count(q.toBytes(), 1);
    assertEquals(0, k.ops().getOrDefault("QuantizeLinear", 0), k.ops().toString());
    List<Row> rows =
        List.of(
            TestRows.row(
                1,
                null,
                Map.of(
                    "ids",
                    TestRows.tensor(3),
                    "x",
                    new ai.distill.store.rows.RowTensor(
                        new int[] {1, 4}, new double[] {1, 2, 3, 4}))));
    try (TableScorer fp = TableScorer.open(m.toBytes(), TableScorer.Options.defaults());
        TableScorer s = TableScorer.open(q.toBytes(), TableScorer.Options.defaults())) {
      float[][] before = fp.scoreAll(TestRows.table(m, rows)).get("c");
      float[] after = s.scoreAll(TestRows.table(m, rows)).get("c")[0];
      for (int i = 0; i < after.length; i++) {
        assertEquals(before[0][i], after[i], 0.01f);
      }
    }
  }

  @Test
  void matmul_layers_form_integer_kernels() {
    java.util.Random r = new java.util.Random(1);
    float[] w1 = new float[8 * 16];
    float[] w2 = new float[16];
    for (int i = 0; i < w1.length; i++) {
      w1[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < w2.length; i++) {
      w2[i] = (float) r.nextGaussian();
    }
    OnnxModel m =
        ai.distill.optimizer.onnx.GraphBuilder.create("mm")
            .input("x", DataType.FLOAT, -1, 8)
            .initializer("w1", w1, 8, 16)
            .initializer("b1", new float[16], 16)
            .initializer("w2", w2, 16, 1)
            .matmul("x", "w1", "h")
            .add("h", "b1", "hb")
            .op("Relu", "hb", "hr")
            .matmul("hr", "w2", "y")
            .output("y", DataType.FLOAT, -1, 1)
            .build();
    List<QuantTarget> targets = QuantTarget.find(m);
    assertEquals(2, targets.size());
    assertEquals(1, targets.get(0).weightAxis());
    List<Row> rows = TestRows.gaussian("x", 8, 200, 3);
    for (boolean perChannel : List.of(true, false)) {
      OnnxModel q =
          QdqRewriter.rewrite(
              m,
              targets,
              calibrate(m, targets, rows),
              QuantizeOptions.builder().perChannel(perChannel).build(),
              Set.of());
      KernelCounter.Kernels k = KernelCounter.count(q.toBytes(), 1);
      assertTrue(k.integerKernels() >= 2, "perChannel=" + perChannel + ": " + k.ops());
      ModelComparison c =
          Evaluator.compare(
              m.toBytes(),
              q.toBytes(),
              TestRows.table(m, rows),
              "y",
              TableScorer.Options.defaults());
      assertTrue(c.meanAbsDiff() < 0.05 * 4, "mean |diff| " + c.meanAbsDiff());
    }
  }

  @Test
  void fp32_layers_are_left_alone() {
    OnnxModel m = TinyModels.mlp(4, new int[] {8}, 1);
    List<QuantTarget> targets = QuantTarget.find(m);
    OnnxModel q =
        QdqRewriter.rewrite(
            m,
            targets,
            calibrate(m, targets, TestRows.gaussian("x", 4, 50, 1)),
            QuantizeOptions.defaults(),
            Set.of(targets.get(1).layer()));
    assertTrue(q.initializer("fc1.weight").isPresent());
    assertTrue(q.initializer("fc0.weight").isEmpty());
    assertTrue(q.initializer("fc0.weight_quantized").isPresent());
  }

  @Test
  void dynamic_mode_forms_integer_matmuls_without_calibration() {
    OnnxModel m = ctr();
    OnnxModel d =
        DynamicRewriter.rewrite(m, QuantTarget.find(m), QuantizeOptions.defaults(), Set.of());
    List<Row> rows = TestRows.ctr(DENSE, SPARSE, VOCAB, 300, 4);
    ModelComparison c =
        Evaluator.compare(
            m.toBytes(),
            d.toBytes(),
            TestRows.table(m, rows),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.maxAbsDiff() < 0.03, "max |diff| " + c.maxAbsDiff());
    KernelCounter.Kernels k = KernelCounter.count(d.toBytes(), 1);
    assertEquals(3, k.integerKernels(), k.ops().toString());
  }

  @Test
  void results_pass_onnx_checker(@TempDir Path dir) throws Exception {
    OnnxModel m = ctr();
    List<QuantTarget> targets = QuantTarget.find(m);
    OnnxModel q =
        QdqRewriter.rewrite(
            m,
            targets,
            calibrate(m, targets, TestRows.ctr(DENSE, SPARSE, VOCAB, 100, 1)),
            QuantizeOptions.defaults(),
            Set.of());
    OnnxModel d = DynamicRewriter.rewrite(m, targets, QuantizeOptions.defaults(), Set.of());
    assertCheckerAccepts(dir, List.of(m, q, d));
  }

  /**
   * Runs {@code onnx.checker.check_model(full_check=True)} on each model; skipped without
   * python3-onnx.
   */
  static void assertCheckerAccepts(Path dir, List<OnnxModel> models) throws Exception {
    String python = pythonWithOnnx();
    Assumptions.assumeTrue(
        python != null,
        "python3 with the onnx package is not installed"
            + " (apt-get install python3-onnx); skipping the onnx.checker test");
    for (OnnxModel model : models) {
      Path f = dir.resolve("m" + model.hashCode() + ".onnx");
      model.save(f);
      Process p =
          new ProcessBuilder(
                  python,
                  "-c",
                  "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')",
                  f.toString())
              .redirectErrorStream(true)
              .start();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), "onnx.checker failed: " + out);
    }
  }

  /**
   * The first of python3 on the PATH and Debian's /usr/bin/python3 that can import onnx, or null.
   */
  static String pythonWithOnnx() {
    for (String python : List.of("python3", "/usr/bin/python3")) {
      try {
        Process p =
            new ProcessBuilder(python, "-c", "import onnx").redirectErrorStream(true).start();
        if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return python;
        }
      } catch (IOException e) {
        // not installed: try the next one
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }
}
