package ai.distill.optimizer.eval;

import ai.distill.store.rows.Row;
import java.util.List;

/**
 * Evaluates models on labelled rows: {@link EvalReport} for one model, {@link ModelComparison}
 * for two. Each call opens and closes its own ORT sessions. Stateless and thread-safe.
 *
 * <pre>{@code
 * EvalReport r = Evaluator.evaluate(bytes, rows, null, RowsScorer.Options.defaults());
 * ModelComparison c = Evaluator.compare(fp32, int8, rows, "prob", RowsScorer.Options.defaults());
 * }</pre>
 */
public final class Evaluator {

    private Evaluator() {
    }

    /** Scores {@code rows} with the model; {@code output} null means the model's first output. */
    public static float[] predict(byte[] model, List<Row> rows, String output, RowsScorer.Options options) {
        try (RowsScorer s = RowsScorer.open(model, options)) {
            return s.score(rows, output == null ? s.outputNames().get(0) : output);
        }
    }

    public static EvalReport evaluate(byte[] model, List<Row> rows, String output, RowsScorer.Options options) {
        return report(predict(model, rows, output, options), rows);
    }

    public static ModelComparison compare(byte[] reference, byte[] candidate, List<Row> rows, String output,
            RowsScorer.Options options) {
        return compare(predict(reference, rows, output, options), predict(candidate, rows, output, options), rows);
    }

    /** Compares two prediction vectors made on the same rows. */
    public static ModelComparison compare(float[] reference, float[] candidate, List<Row> rows) {
        if (reference.length != candidate.length) {
            throw new IllegalArgumentException("predictions : " + reference.length + " and " + candidate.length
                    + " (expected: equal lengths)");
        }
        double max = 0;
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            double d = Math.abs(reference[i] - candidate[i]);
            max = Math.max(max, d);
            sum += d;
        }
        return new ModelComparison(report(reference, rows), report(candidate, rows), max,
                reference.length == 0 ? 0 : sum / reference.length, BinaryMetrics.spearman(reference, candidate));
    }

    /** The report for predictions made on {@code rows} (same order). */
    public static EvalReport report(float[] predictions, List<Row> rows) {
        if (predictions.length != rows.size()) {
            throw new IllegalArgumentException("predictions : " + predictions.length + " for " + rows.size()
                    + " rows (expected: one per row)");
        }
        int labelled = 0;
        for (Row r : rows) {
            if (r.label() != null) {
                labelled++;
            }
        }
        float[] p = new float[labelled];
        int[] y = new int[labelled];
        int k = 0;
        long positives = 0;
        for (int i = 0; i < rows.size(); i++) {
            Integer label = rows.get(i).label();
            if (label != null) {
                p[k] = predictions[i];
                y[k] = label;
                positives += label;
                k++;
            }
        }
        return new EvalReport(rows.size(), labelled, labelled == 0 ? Double.NaN : BinaryMetrics.auc(p, y),
                labelled == 0 ? Double.NaN : BinaryMetrics.logloss(p, y), BinaryMetrics.mean(predictions),
                labelled == 0 ? Double.NaN : (double) positives / labelled);
    }
}
