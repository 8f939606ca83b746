package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.table.RowSignatureException;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantizerTest {

  private static QuantizeOptions.Builder fast() {
    return QuantizeOptions.builder().speedCheck(false).method(CalibrationMethod.MINMAX);
  }

  /**
   * x[4] → fc0 (fragile: every output channel has a weight of 1000 on the always-zero feature 0, so
   * per-channel int8 rounds the informative small weights to 0) → Relu → fc1 → Sigmoid.
   */
  static OnnxModel fragile() {
    float[] w0 = {
      1000f, 0.05f, 0.05f, -0.05f,
      1000f, -0.05f, -0.04f, 0.05f,
      1000f, 0.03f, 0.01f, 0.02f,
      1000f, 0.01f, 0.03f, -0.02f
    };
    return GraphBuilder.create("fragile")
        .input("x", DataType.FLOAT, -1, 4)
        .initializer("fc0.weight", w0, 4, 4)
        .initializer("fc0.bias", new float[] {0.1f, 0.1f, 0.1f, 0.1f}, 4)
        .gemm("x", "fc0.weight", "fc0.bias", "h", true)
        .op("Relu", "h", "hr")
        .initializer("fc1.weight", new float[] {8f, -8f, 5f, 3f}, 1, 4)
        .initializer("fc1.bias", new float[] {-1f}, 1)
        .gemm("hr", "fc1.weight", "fc1.bias", "logit", true)
        .op("Sigmoid", "logit", "prob")
        .output("prob", DataType.FLOAT, -1, 1)
        .build();
  }

  static List<Row> fragileRows(int n, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double a = r.nextGaussian();
      double b = r.nextGaussian();
      double c = r.nextGaussian();
      int label = r.nextDouble() < 1 / (1 + Math.exp(-(a + b - c) * 2)) ? 1 : 0;
      rows.add(TestRows.row(i + 1, label, Map.of("x", TestRows.tensor(0, a, b, c))));
    }
    return rows;
  }

  @Test
  void fragile_layer_falls_back_to_fp32_and_the_gate_then_holds() {
    List<Row> rows = fragileRows(1200, 1);
    QuantizeResult r =
        Quantizer.quantize(
            fragile(),
            rows.subList(0, 400),
            rows.subList(400, 1200),
            fast().maxAucDrop(0.01).maxMeanShift(0.05).build());
    QuantizeReport rep = r.report();
    assertEquals(List.of("gemm_0"), rep.fellBack(), rep.toTable());
    LayerReport fc0 = rep.layers().get(0);
    assertFalse(fc0.quantized());
    assertTrue(fc0.note().startsWith("gate failed"), fc0.note());
    assertTrue(Math.abs(fc0.aucDeltaAlone()) > 0.05, "fc0 alone " + fc0.aucDeltaAlone());
    assertTrue(rep.layers().get(1).quantized());
    assertTrue(Math.abs(rep.comparison().aucDelta()) <= 0.01, rep.toTable());
    assertTrue(rep.gatePassed());
    OnnxModel out = OnnxModel.fromBytes(r.model());
    assertTrue(out.initializer("fc0.weight").isPresent());
    assertTrue(out.initializer("fc1.weight_quantized").isPresent());
    Map<String, Object> m = rep.toMap();
    assertEquals("minmax", m.get("method"));
    assertEquals(400, m.get("calibration_rows"));
    assertTrue(rep.toTable().contains("fp32 (gate failed"), rep.toTable());
  }

  @Test
  void gate_failure_without_enough_fallbacks_is_reported() {
    List<Row> rows = fragileRows(600, 2);
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(
                    fragile(),
                    rows.subList(0, 300),
                    rows.subList(300, 600),
                    fast().maxAucDrop(0.01).maxFallbacks(0).build()));
    assertEquals(QuantizationException.Reason.ACCURACY_GATE, e.reason());
    assertTrue(e.getMessage().startsWith("accuracy gate failed: dAUC"), e.getMessage());
  }

  @Test
  void ctr_model_quantizes_end_to_end_with_a_report() {
    OnnxModel m = QdqRewriterTest.ctr();
    List<Row> rows = TestRows.ctr(5, 3, 1000, 1600, 3);
    List<String> progress = new ArrayList<>();
    QuantizeResult r =
        Quantizer.quantize(
            m,
            rows.subList(0, 800),
            rows.subList(800, 1600),
            fast()
                .method(CalibrationMethod.PERCENTILE)
                .percentile(99.99)
                .maxAucDrop(0.01)
                .progress(progress::add)
                .build());
    QuantizeReport rep = r.report();
    assertTrue(rep.kernels().integerKernels() >= 3, rep.toTable());
    assertEquals(6, rep.layers().size());
    assertTrue(rep.layers().stream().allMatch(l -> l.sqnrDb() > 10), rep.toTable());
    assertTrue(rep.sizeRatio() < 0.35, rep.toTable());
    assertTrue(
        progress.stream().anyMatch(p -> p.startsWith("calibrating: 800/800 rows")),
        progress.toString());
    assertEquals(
        "static-qdq percentile",
        OnnxModel.fromBytes(r.model()).metadata().get("distill.quantization"));
  }

  @Test
  void dynamic_mode_needs_no_calibration_rows() {
    OnnxModel m = QdqRewriterTest.ctr();
    List<Row> rows = TestRows.ctr(5, 3, 1000, 400, 8);
    QuantizeResult r =
        Quantizer.quantize(m, List.of(), rows, fast().dynamic(true).maxAucDrop(0.01).build());
    assertEquals("dynamic", r.report().mode());
    assertEquals(0, r.report().calibrationRows());
    assertEquals(
        3,
        r.report().kernels().ops().getOrDefault("DynamicQuantizeMatMul", 0),
        r.report().toTable());
  }

  @Test
  void old_opsets_are_refused_with_a_fix() {
    OnnxModel m =
        GraphBuilder.create("old")
            .opset(12)
            .input("x", DataType.FLOAT, -1, 2)
            .initializer("w", new float[] {1, 2, 3, 4}, 2, 2)
            .matmul("x", "w", "y")
            .output("y", DataType.FLOAT, -1, 2)
            .build();
    List<Row> rows = TestRows.gaussian("x", 2, 100, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Quantizer.quantize(m, rows.subList(0, 50), rows.subList(50, 100), fast().build()));
    assertTrue(
        e.getMessage().startsWith("the model imports ONNX opset 12, too old"), e.getMessage());
  }

  @Test
  void split_is_deterministic_and_disjoint() {
    List<Row> rows = TestRows.gaussian("x", 2, 100, 1);
    Quantizer.Split s =
        Quantizer.split(
            rows, QuantizeOptions.builder().calibrationRows(30).heldOutRows(40).build());
    assertEquals(30, s.calibration().size());
    assertEquals(40, s.heldOut().size());
    assertEquals(1, s.calibration().get(0).line());
    assertEquals(51, s.heldOut().get(0).line());
  }

  @Test
  void model_without_quantizable_nodes_is_refused() {
    OnnxModel m =
        GraphBuilder.create("relu")
            .input("x", DataType.FLOAT, -1, 3)
            .op("Relu", "x", "y")
            .output("y", DataType.FLOAT, -1, 3)
            .build();
    List<Row> rows = TestRows.gaussian("x", 3, 100, 1);
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(m, rows.subList(0, 50), rows.subList(50, 100), fast().build()));
    assertEquals(QuantizationException.Reason.NO_QUANTIZABLE_NODES, e.reason());
    assertTrue(e.getMessage().startsWith("the model has no quantizable nodes"), e.getMessage());
  }

  @Test
  void too_few_rows_say_how_many_are_needed() {
    OnnxModel m = TinyModels.mlp(4, new int[] {8}, 1);
    List<Row> rows = TestRows.gaussian("x", 4, 200, 1);
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(
                    m,
                    rows.subList(0, 50),
                    rows.subList(50, 200),
                    fast().method(CalibrationMethod.ENTROPY).build()));
    assertEquals(QuantizationException.Reason.NOT_ENOUGH_ROWS, e.reason());
    assertEquals(
        "calibration rows: 50 (the entropy method needs at least 200 rows; supply more rows or use"
            + " --method minmax)",
        e.getMessage());
    QuantizationException p =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(
                    m,
                    rows.subList(0, 150),
                    rows.subList(150, 200),
                    fast().method(CalibrationMethod.PERCENTILE).build()));
    assertTrue(
        p.getMessage().contains("needs at least 12500 rows at percentile 99.999"), p.getMessage());
    QuantizationException h =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(
                    m, rows.subList(0, 150), rows.subList(150, 160), fast().build()));
    assertTrue(h.getMessage().startsWith("held-out rows: 10 (need at least 20"), h.getMessage());
  }

  @Test
  void rows_not_matching_the_signature_name_row_and_input() {
    OnnxModel m = TinyModels.mlp(4, new int[] {8}, 1);
    List<Row> rows = new ArrayList<>(TestRows.gaussian("x", 4, 100, 1));
    rows.set(7, TestRows.row(8, 1, Map.of("x", TestRows.tensor(1, 2, 3))));
    RowSignatureException e =
        assertThrows(
            RowSignatureException.class,
            () ->
                Quantizer.quantize(m, rows.subList(0, 50), rows.subList(50, 100), fast().build()));
    assertEquals(8, e.row());
    assertEquals("x", e.input());
  }
}
