package ai.distill.optimizer.quant;

import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Collects activation statistics: copies the model, exposes the chosen tensors as extra graph
 * outputs (through Identity nodes), runs rows through ONNX Runtime with optimizations disabled and
 * streams every batch into one {@link TensorHistogram} per tensor, so memory does not grow with the
 * number of rows. Stateless; each call owns and closes its session.
 */
public final class Calibrator {

  static final String SUFFIX = "__calib";

  private Calibrator() {}

  /** A copy of {@code model} that also outputs each of {@code tensors} as {@code <name>__calib}. */
  public static OnnxModel augment(OnnxModel model, Collection<String> tensors) {
    GraphProto.Builder g = model.graph().toBuilder();
    for (String t : tensors) {
      g.addNode(
          NodeProto.newBuilder()
              .setOpType("Identity")
              .setName("calib_" + t)
              .addInput(t)
              .addOutput(t + SUFFIX));
      g.addOutput(OnnxModel.valueInfo(t + SUFFIX, DataType.FLOAT));
    }
    return model.withGraph(g.build());
  }

  /**
   * Runs {@code rows} and returns a histogram per tensor.
   *
   * @param progress receives "calibrating: N/M rows" (stage {@code calibrate}) after each batch,
   *     and is asked about cancellation before each
   */
  public static Map<String, TensorHistogram> collect(
      OnnxModel model,
      Collection<String> tensors,
      RowTable rows,
      int bins,
      int threads,
      ProgressListener progress) {
    OnnxModel augmented = augment(model, tensors);
    Map<String, TensorHistogram> stats = new LinkedHashMap<>();
    for (String t : tensors) {
      stats.put(t, new TensorHistogram(bins));
    }
    Map<String, String> outputToTensor = new LinkedHashMap<>();
    for (String t : tensors) {
      outputToTensor.put(t + SUFFIX, t);
    }
    TableScorer.Options options = new TableScorer.Options(threads, OptLevel.NO_OPT, 128, null);
    try (TableScorer scorer = TableScorer.open(augmented.toBytes(), options)) {
      scorer.forEachBatch(
          rows,
          outputToTensor.keySet(),
          (first, n, outputs) -> {
            for (Map.Entry<String, float[]> e : outputs.entrySet()) {
              stats.get(outputToTensor.get(e.getKey())).add(e.getValue());
            }
            progress.progress(
                "calibrate",
                (double) (first + n) / rows.rows(),
                "calibrating: " + (first + n) + "/" + rows.rows() + " rows");
            progress.checkCancelled("calibrate");
          });
    }
    return stats;
  }

  /**
   * The mean of each feature (index along the last axis, {@code width} wide) of each tensor over
   * {@code rows}: what bias correction of 4-bit weights needs ({@link Int4Weights#biasCorrection}).
   */
  public static Map<String, double[]> featureMeans(
      OnnxModel model, Map<String, Integer> widths, RowTable rows, int threads) {
    OnnxModel augmented = augment(model, widths.keySet());
    Map<String, double[]> sums = new LinkedHashMap<>();
    Map<String, long[]> counts = new LinkedHashMap<>();
    Map<String, String> outputToTensor = new LinkedHashMap<>();
    widths.forEach(
        (t, w) -> {
          sums.put(t, new double[w]);
          counts.put(t, new long[1]);
          outputToTensor.put(t + SUFFIX, t);
        });
    TableScorer.Options options = new TableScorer.Options(threads, OptLevel.NO_OPT, 128, null);
    try (TableScorer scorer = TableScorer.open(augmented.toBytes(), options)) {
      scorer.forEachBatch(
          rows,
          outputToTensor.keySet(),
          (first, n, outputs) -> {
            for (Map.Entry<String, float[]> e : outputs.entrySet()) {
              String t = outputToTensor.get(e.getKey());
              double[] sum = sums.get(t);
              float[] v = e.getValue();
              for (int i = 0; i < v.length; i++) {
                sum[i % sum.length] += v[i];
              }
              counts.get(t)[0] += v.length / sum.length;
            }
          });
    }
    Map<String, double[]> means = new LinkedHashMap<>();
    sums.forEach(
        (t, sum) -> {
          double[] m = sum.clone();
          long c = Math.max(1, counts.get(t)[0]);
          for (int i = 0; i < m.length; i++) {
            m[i] /= c;
          }
          means.put(t, m);
        });
    return means;
  }
}
