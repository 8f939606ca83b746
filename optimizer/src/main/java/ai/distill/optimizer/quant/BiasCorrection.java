package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Empirical bias correction for 4-bit weights and tables: layer by layer in graph order, the mean
 * of each output channel of the quantized model (run as the QDQ graph, on the calibration rows,
 * with the corrections of the layers before it) is moved back to the float model's by adding the
 * difference to the layer's bias. 4-bit rounding errors do not average out over a channel's inputs
 * the way 8-bit ones do, and what they shift is the mean prediction (on the fixture: 2 % with 4-bit
 * tables and weights, twice the gate's bound) more than the ranking. Only calibration rows are
 * used. Stateless.
 */
public final class BiasCorrection {

  private BiasCorrection() {}

  /**
   * The bias shift per layer (MatMul/Gemm targets with a bias), one value per output channel.
   *
   * @param build the QDQ model with the given shifts (every layer quantized)
   */
  public static Map<String, float[]> shifts(
      OnnxModel fp32,
      List<QuantTarget> targets,
      Function<Map<String, float[]>, OnnxModel> build,
      RowTable calibration,
      int threads) {
    Map<String, Integer> widths = new LinkedHashMap<>();
    Map<String, QuantTarget> byOutput = new LinkedHashMap<>();
    for (QuantTarget t : targets) {
      if (t.kind() == QuantTarget.Kind.GATHER || t.bias() == null) {
        continue;
      }
      fp32.initializer(t.weight())
          .ifPresent(w -> widths.put(t.output(), (int) w.getDims(t.weightAxis())));
      byOutput.put(t.output(), t);
    }
    Map<String, float[]> shifts = new LinkedHashMap<>();
    if (widths.isEmpty()) {
      return shifts;
    }
    Map<String, double[]> reference = Calibrator.featureMeans(fp32, widths, calibration, threads);
    for (Map.Entry<String, Integer> e : widths.entrySet()) {
      OnnxModel q = build.apply(shifts);
      double[] mean =
          Calibrator.featureMeans(q, Map.of(e.getKey(), e.getValue()), calibration, threads)
              .get(e.getKey());
      double[] ref = reference.get(e.getKey());
      float[] shift = new float[ref.length];
      for (int c = 0; c < shift.length; c++) {
        shift[c] = (float) (ref[c] - mean[c]);
      }
      shifts.put(byOutput.get(e.getKey()).layer(), shift);
    }
    String last = widths.keySet().stream().reduce((a, b) -> b).orElseThrow();
    String prediction = sigmoidOutput(fp32, last);
    if (prediction != null && widths.get(last) == 1) {
      double target = mean(values(fp32, prediction, calibration, threads));
      float[] logits = values(build.apply(shifts), last, calibration, threads);
      float[] shift = shifts.get(byOutput.get(last).layer());
      shift[0] += (float) meanMatchingShift(logits, target);
    }
    return shifts;
  }

  /** The graph output a Sigmoid makes of {@code tensor}, or null. */
  private static String sigmoidOutput(OnnxModel m, String tensor) {
    List<NodeProto> users = m.consumers().getOrDefault(tensor, List.of());
    if (users.size() != 1 || !users.get(0).getOpType().equals("Sigmoid")) {
      return null;
    }
    String out = users.get(0).getOutput(0);
    return m.graph().getOutputList().stream().anyMatch(v -> v.getName().equals(out)) ? out : null;
  }

  /** The shift d with mean(sigmoid(z + d)) = target (bisection on [-8, 8]). */
  static double meanMatchingShift(float[] z, double target) {
    double lo = -8;
    double hi = 8;
    for (int it = 0; it < 60; it++) {
      double mid = (lo + hi) / 2;
      double m = 0;
      for (float v : z) {
        m += 1 / (1 + Math.exp(-(v + mid)));
      }
      if (m / Math.max(1, z.length) < target) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  private static double mean(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x;
    }
    return v.length == 0 ? 0 : s / v.length;
  }

  /** Every value of {@code tensor} over the rows (the model as written, optimizations off). */
  private static float[] values(OnnxModel m, String tensor, RowTable rows, int threads) {
    OnnxModel augmented = Calibrator.augment(m, List.of(tensor));
    String out = tensor + Calibrator.SUFFIX;
    TableScorer.Options o = new TableScorer.Options(threads, OptLevel.NO_OPT, 128, null);
    try (TableScorer scorer = TableScorer.open(augmented.toBytes(), o)) {
      return scorer.score(rows, out);
    }
  }
}
