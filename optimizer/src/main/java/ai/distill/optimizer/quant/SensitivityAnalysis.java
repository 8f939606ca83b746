package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * How much each quantizable layer hurts: the SQNR of its output in the fully quantized model, and
 * the change of the predictions (AUC, mean, mean |Δ|) with that layer alone quantized. The {@link
 * AccuracyGate} reverts layers in the order this ranks them. Stateless; each call owns and closes
 * its ORT sessions.
 */
public final class SensitivityAnalysis {

  private SensitivityAnalysis() {}

  /**
   * One {@link LayerReport} per target, in target order (all marked quantized).
   *
   * @param fp32 the source model
   * @param quantized the model with every target quantized
   * @param build the model with the given layers kept in FP32 and the others quantized
   * @param rows the rows to measure on
   * @param fp32Predictions the source model's {@code output} on {@code rows}
   * @param progress stage {@code sensitivity}; asked about cancellation before each layer
   */
  public static List<LayerReport> run(
      OnnxModel fp32,
      OnnxModel quantized,
      List<QuantTarget> targets,
      Function<Set<String>, OnnxModel> build,
      RowTable rows,
      float[] fp32Predictions,
      String output,
      TableScorer.Options scoring,
      ProgressListener progress) {
    Map<String, String> compared = comparedTensors(fp32, quantized, targets);
    Set<String> outs = new LinkedHashSet<>(compared.values());
    Map<String, NodeProto> quantProducers = quantized.producers();
    outs.removeIf(n -> !quantProducers.containsKey(n));
    progress.progress(
        "sensitivity",
        0,
        "sensitivity: SQNR of " + outs.size() + " layer outputs on " + rows.rows() + " rows");
    Map<String, double[]> power = sqnrPowers(fp32, quantized, outs, rows, scoring);
    boolean labelled = rows.labelledRows() > 0;
    double fp32Auc = Evaluator.report(fp32Predictions, rows).auc();
    double fp32Mean = BinaryMetrics.mean(fp32Predictions);
    List<LayerReport> layers = new ArrayList<>();
    Set<String> all = new HashSet<>();
    targets.forEach(t -> all.add(t.layer()));
    int k = 0;
    for (QuantTarget t : targets) {
      progress.checkCancelled("sensitivity");
      progress.progress(
          "sensitivity",
          (double) k / targets.size(),
          "sensitivity: layer " + (++k) + "/" + targets.size() + " " + t.layer());
      Set<String> others = new HashSet<>(all);
      others.remove(t.layer());
      float[] p = Evaluator.predict(build.apply(others).toBytes(), rows, output, scoring);
      double sum = 0;
      for (int i = 0; i < p.length; i++) {
        sum += Math.abs(p[i] - fp32Predictions[i]);
      }
      double[] pw =
          power.getOrDefault(compared.get(t.layer()), new double[] {Double.NaN, Double.NaN});
      layers.add(
          new LayerReport(
              t.layer(),
              t.kind().name().charAt(0) + t.kind().name().substring(1).toLowerCase(Locale.ROOT),
              t.weight(),
              QuantMath.sqnrDb(pw[0], pw[1]),
              labelled ? Evaluator.report(p, rows).auc() - fp32Auc : Double.NaN,
              (BinaryMetrics.mean(p) - fp32Mean) / fp32Mean,
              sum / Math.max(1, p.length),
              true,
              ""));
    }
    return layers;
  }

  /**
   * The tensor whose SQNR stands for each layer: its output, or, when the quantized model renamed
   * it (a Gather's DequantizeLinear moves after shape-only ops), the first tensor downstream both
   * models produce.
   */
  static Map<String, String> comparedTensors(
      OnnxModel fp32, OnnxModel quantized, List<QuantTarget> targets) {
    Map<String, NodeProto> quantProducers = quantized.producers();
    Map<String, List<NodeProto>> fp32Consumers = fp32.consumers();
    Map<String, String> compared = new LinkedHashMap<>();
    for (QuantTarget t : targets) {
      String name = t.output();
      while (!quantProducers.containsKey(name)
          && fp32Consumers.getOrDefault(name, List.of()).size() == 1) {
        name = fp32Consumers.get(name).get(0).getOutput(0);
      }
      compared.put(t.layer(), name);
    }
    return compared;
  }

  /**
   * Signal and noise power per tensor: Σx² of FP32 and Σ(x−y)² against the quantized model,
   * streamed one batch at a time through both models so that activations are never all held.
   */
  static Map<String, double[]> sqnrPowers(
      OnnxModel fp32,
      OnnxModel quantized,
      Set<String> tensors,
      RowTable rows,
      TableScorer.Options scoring) {
    Map<String, String> names = new LinkedHashMap<>();
    tensors.forEach(t -> names.put(t + Calibrator.SUFFIX, t));
    Map<String, double[]> power = new LinkedHashMap<>();
    tensors.forEach(t -> power.put(t, new double[2]));
    TableScorer.Options o = scoring.withOptimization(OptLevel.NO_OPT);
    try (TableScorer a = TableScorer.open(Calibrator.augment(fp32, tensors).toBytes(), o);
        TableScorer b = TableScorer.open(Calibrator.augment(quantized, tensors).toBytes(), o)) {
      for (int from = 0; from < rows.rows(); from += o.batchSize()) {
        RowTable chunk = rows.slice(from, Math.min(o.batchSize(), rows.rows() - from));
        Map<String, float[]> ref = new LinkedHashMap<>();
        a.forEachBatch(chunk, names.keySet(), (first, n, outputs) -> ref.putAll(outputs));
        b.forEachBatch(
            chunk,
            names.keySet(),
            (first, n, outputs) -> {
              for (Map.Entry<String, float[]> e : outputs.entrySet()) {
                float[] x = ref.get(e.getKey());
                float[] y = e.getValue();
                double[] p = power.get(names.get(e.getKey()));
                for (int i = 0; i < y.length; i++) {
                  double d = y[i] - x[i];
                  p[0] += (double) x[i] * x[i];
                  p[1] += d * d;
                }
              }
            });
      }
    }
    return power;
  }
}
