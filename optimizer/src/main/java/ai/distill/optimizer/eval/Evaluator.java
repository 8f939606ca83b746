package ai.distill.optimizer.eval;

import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;

/**
 * Evaluates models on a {@link RowTable} (labels optional): {@link EvalReport} for one model,
 * {@link ModelComparison} for two. Each call opens and closes its own ORT sessions. Stateless and
 * thread-safe.
 *
 * <pre>{@code
 * EvalReport r = Evaluator.evaluate(bytes, rows, null, TableScorer.Options.defaults());
 * ModelComparison c = Evaluator.compare(fp32, int8, rows, "prob", TableScorer.Options.defaults());
 * }</pre>
 */
public final class Evaluator {

  private Evaluator() {}

  /** Scores {@code rows} with the model; {@code output} null means the model's first output. */
  public static float[] predict(
      byte[] model, RowTable rows, String output, TableScorer.Options options) {
    try (TableScorer s = TableScorer.open(model, options)) {
      return output == null ? s.score(rows) : s.score(rows, output);
    }
  }

  public static EvalReport evaluate(
      byte[] model, RowTable rows, String output, TableScorer.Options options) {
    return report(predict(model, rows, output, options), rows);
  }

  public static ModelComparison compare(
      byte[] reference,
      byte[] candidate,
      RowTable rows,
      String output,
      TableScorer.Options options) {
    return compare(
        predict(reference, rows, output, options), predict(candidate, rows, output, options), rows);
  }

  /** Compares two prediction vectors made on the same rows. */
  public static ModelComparison compare(float[] reference, float[] candidate, RowTable rows) {
    if (reference.length != candidate.length) {
      throw new IllegalArgumentException(
          "predictions : "
              + reference.length
              + " and "
              + candidate.length
              + " (expected: equal lengths)");
    }
    double max = 0;
    double sum = 0;
    for (int i = 0; i < reference.length; i++) {
      double d = Math.abs(reference[i] - candidate[i]);
      max = Math.max(max, d);
      sum += d;
    }
    return new ModelComparison(
        report(reference, rows),
        report(candidate, rows),
        max,
        reference.length == 0 ? 0 : sum / reference.length,
        BinaryMetrics.spearman(reference, candidate));
  }

  /** The report for predictions made on {@code rows} (same order). */
  public static EvalReport report(float[] predictions, RowTable rows) {
    if (predictions.length != rows.rows()) {
      throw new IllegalArgumentException(
          "predictions : "
              + predictions.length
              + " for "
              + rows.rows()
              + " rows (expected: one per row)");
    }
    float[] p = rows.labelledOnly(predictions);
    int[] y = rows.labelValues();
    int labelled = y.length;
    long positives = 0;
    for (int label : y) {
      positives += label;
    }
    return new EvalReport(
        rows.rows(),
        labelled,
        labelled == 0 ? Double.NaN : BinaryMetrics.auc(p, y),
        labelled == 0 ? Double.NaN : BinaryMetrics.logloss(p, y),
        BinaryMetrics.mean(predictions),
        labelled == 0 ? Double.NaN : (double) positives / labelled);
  }
}
