package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.quant.QuantMath.WeightQuant;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 4-bit weights: the values round-trip within half a step unless clipped, ORT widens the packed
 * nibbles to exactly the int8 values (constant folding) and still forms QGemm, the bias correction
 * puts the mean prediction back, and onnx.checker accepts the result.
 */
class Int4WeightsTest {

  @Test
  void values_round_trip_within_half_a_step_unless_clipped() {
    Random r = new Random(4);
    int rows = 24;
    int cols = 40;
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * (1 + i / cols % 3));
    }
    WeightQuant q = Int4Weights.quantize(w, rows, cols, 0);
    assertEquals(rows, q.scales().length);
    for (int i = 0; i < w.length; i++) {
      float s = q.scales()[i / cols];
      assertTrue(q.values()[i] >= -7 && q.values()[i] <= 7);
      boolean clipped = Math.abs(w[i]) > 7.5 * s;
      float err = Math.abs(w[i] - q.values()[i] * s);
      assertTrue(clipped || err <= s / 2 + 1e-6, "value " + i + " err " + err + " step " + s);
    }
    // per column (MatMul weights [K, N]): one scale per column
    assertEquals(cols, Int4Weights.quantize(w, rows, cols, 1).scales().length);
  }

  @Test
  void packed_weights_widen_to_the_int8_values_and_form_qgemm(@TempDir Path dir) throws Exception {
    OnnxModel m = TinyModels.mlp(64, new int[] {128, 64}, 5);
    List<Row> rows = TestRows.gaussian("x", 64, 300, 6);
    List<QuantTarget> targets = QuantTarget.find(m);
    var ranges = QdqRewriterTest.calibrate(m, targets, rows.subList(0, 100));
    QuantizeOptions o4 = QuantizeOptions.builder().weightBits(4).build();
    OnnxModel q4 = QdqRewriter.rewrite(m, targets, ranges, o4, Set.of());
    // fc0 [128, 64] and fc1 [64, 128] have 8192 values: 4 bits; fc2 [1, 64] keeps 8
    assertEquals(4096, q4.initializer("fc0.weight_quantized_4bit").get().getRawData().size());
    assertTrue(q4.initializer("fc0.weight_quantized").isEmpty(), "int8 copy stored too");
    assertTrue(q4.initializer("fc2.weight_quantized").isPresent(), "small layer not 8-bit");
    KernelCounter.Kernels k = KernelCounter.count(q4.toBytes(), 1);
    assertEquals(3, k.integerKernels(), k.ops().toString());
    assertEquals(0, k.floatMatmuls(), k.ops().toString());

    // the same model with the int8 values stored directly computes the same outputs
    GraphProto.Builder g = q4.graph().toBuilder().clearNode();
    q4.nodes().stream()
        .filter(
            n ->
                !n.getOutput(0).startsWith("fc0.weight_quantized_4bit")
                    && !n.getOutput(0).equals("fc0.weight_quantized"))
        .forEach(g::addNode);
    WeightQuant fc0 =
        Int4Weights.quantize(TensorProtos.toFloats(m.initializer("fc0.weight").get()), 128, 64, 0);
    g.addInitializer(TensorProtos.int8("fc0.weight_quantized", fc0.values(), 128, 64));
    OnnxModel direct = LookupFusion.withoutDeadCode(q4.withGraph(g.build()));
    ModelComparison same = compare(direct, q4, rows.subList(100, 300));
    assertTrue(same.maxAbsDiff() < 1e-6, "max |diff| " + same.maxAbsDiff());
    ModelComparison vsFloat = compare(m, q4, rows.subList(100, 300));
    assertTrue(vsFloat.meanAbsDiff() < 0.05, "mean |diff| vs fp32 " + vsFloat.meanAbsDiff());
    long q8 =
        QdqRewriter.rewrite(m, targets, ranges, QuantizeOptions.defaults(), Set.of()).sizeBytes();
    // 8192 bytes of int8 weights saved, less the decoding nodes' ~1.6 KB a layer
    assertTrue(q4.sizeBytes() < q8 - 4096, q4.sizeBytes() + " vs " + q8 + " bytes");
    QdqRewriterTest.assertCheckerAccepts(dir, List.of(q4));
  }

  @Test
  void layers_the_gate_sends_back_are_written_in_8_bits() {
    OnnxModel m = TinyModels.ctrModel(5, 3, 1000, 16, new int[] {128, 64}, 11);
    List<QuantTarget> targets = QuantTarget.find(m);
    QuantizeOptions o4 = QuantizeOptions.builder().weightBits(4).embeddingBits(4).build();
    Set<String> four = Int4Weights.fourBitLayers(m, targets, o4);
    // the 3 tables, fc0 [128, 53] and fc1 [64, 128]; not the output layer [1, 64]
    assertEquals(5, four.size(), four.toString());
    var ranges = QdqRewriterTest.calibrate(m, targets, TestRows.ctr(5, 3, 1000, 100, 2));
    String fc0 =
        targets.stream().filter(t -> t.weight().equals("fc0.weight")).findFirst().get().layer();
    OnnxModel q = QdqRewriter.rewrite(m, targets, ranges, Map.of(), o4, Set.of(), Set.of(fc0));
    assertTrue(q.initializer("fc0.weight_quantized").isPresent(), "fc0 not 8-bit");
    assertTrue(q.initializer("fc1.weight_quantized_4bit").isPresent(), "fc1 not 4-bit");
    assertTrue(q.initializer("emb0_4bit").isPresent(), "table not 4-bit");
  }

  @Test
  void four_bit_weights_need_static_per_channel_quantization() {
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> QuantizeOptions.builder().weightBits(4).dynamic(true).build());
    assertTrue(e.getMessage().contains("dynamic quantization"), e.getMessage());
    e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> QuantizeOptions.builder().weightBits(4).perChannel(false).build());
    assertTrue(e.getMessage().contains("per-tensor weights"), e.getMessage());
  }

  @Test
  void mean_matching_shift_moves_the_mean_probability_to_the_target() {
    Random r = new Random(7);
    float[] z = new float[500];
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) (r.nextGaussian() * 1.5 - 1.7);
    }
    double d = BiasCorrection.meanMatchingShift(z, 0.2);
    double m = 0;
    for (float v : z) {
      m += 1 / (1 + Math.exp(-(v + d)));
    }
    assertEquals(0.2, m / z.length, 1e-6);
  }

  @Test
  void bias_correction_keeps_the_mean_prediction_of_a_4_bit_ctr_model() {
    // fc0 [128, 53] and fc1 [64, 128] get 4 bits, the tables too
    OnnxModel m = TinyModels.ctrModel(5, 3, 1000, 16, new int[] {128, 64}, 11);
    List<Row> rows = TestRows.ctr(5, 3, 1000, 1200, 9);
    QuantizeResult r =
        Quantizer.quantize(
            m,
            rows.subList(0, 600),
            rows.subList(600, 1200),
            QuantizeOptions.builder()
                .method(CalibrationMethod.MINMAX)
                .weightBits(4)
                .embeddingBits(4)
                .maxAucDrop(0.05)
                .maxMeanShift(0.05)
                .speedCheck(false)
                .integerDomain(false)
                .build());
    QuantizeReport rep = r.report();
    assertEquals(4, rep.weightBits());
    assertTrue(rep.fellBack().isEmpty(), rep.toTable());
    assertTrue(Math.abs(rep.comparison().meanPredictionRelativeChange()) < 0.01, rep.toTable());
    Map<String, TensorProto> inits = OnnxModel.fromBytes(r.model()).initializers();
    assertTrue(inits.containsKey("fc0.weight_quantized_4bit"), inits.keySet().toString());
  }

  private static ModelComparison compare(OnnxModel a, OnnxModel b, List<Row> rows) {
    return Evaluator.compare(
        a.toBytes(), b.toBytes(), TestRows.table(a, rows), "prob", TableScorer.Options.defaults());
  }
}
