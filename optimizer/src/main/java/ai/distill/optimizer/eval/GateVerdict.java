package ai.distill.optimizer.eval;

import ai.distill.optimizer.table.RowTable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which accuracy gate judged a candidate, its numbers and whether it passed. A candidate is gated
 * on labels ({@link #LABELLED}: ΔAUC and mean prediction shift against its source) when the rows
 * carry enough of them ({@link #labelsSuffice}), else against its source's scores on the same rows
 * ({@link #LABEL_FREE}, a {@link LabelFreeComparison}). {@link #toMap()} is what manifests and CLI
 * summaries record under {@code "gate"}. Immutable.
 *
 * @param mode {@link #LABELLED} or {@link #LABEL_FREE}
 * @param passed whether every bound held
 * @param numbers the measured figures and the bounds, JSON-compatible (NaN left out or null)
 * @param violations the bounds that failed, in words with their numbers; empty when passed
 */
public record GateVerdict(
    String mode, boolean passed, Map<String, Object> numbers, List<String> violations) {

  public static final String LABELLED = "labelled";
  public static final String LABEL_FREE = "label_free";

  /**
   * Fewest labelled rows for the labelled gate. The standard error of an AUC on n rows is roughly
   * 0.5/√(n·min(p, 1−p)); under 200 rows it exceeds 0.03, fifteen times the default 0.002
   * allowance, so ΔAUC says nothing and the label-free comparison (which uses every row) is the
   * better judge.
   */
  public static final int MIN_LABELLED_ROWS = 200;

  public GateVerdict {
    numbers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(numbers));
    violations = List.copyOf(violations);
  }

  /** At least {@link #MIN_LABELLED_ROWS} labelled rows with both classes present. */
  public static boolean labelsSuffice(RowTable rows) {
    int[] y = rows.labelValues();
    if (y.length < MIN_LABELLED_ROWS) {
      return false;
    }
    long positives = 0;
    for (int v : y) {
      positives += v;
    }
    return positives > 0 && positives < y.length;
  }

  /**
   * Why a table gets the label-free gate, for messages: "120 labelled rows of 5000 (need 200 with
   * both classes)".
   */
  public static String whyLabelFree(RowTable rows) {
    return rows.labelledRows()
        + " labelled rows of "
        + rows.rows()
        + " (the labelled gate needs "
        + MIN_LABELLED_ROWS
        + " with both classes)";
  }

  /**
   * The labelled verdict of {@code c}: |ΔAUC| ≤ {@code maxAucDrop} and |relative change of the mean
   * prediction| ≤ {@code maxMeanShift}; a bound whose figure is undefined (NaN) is skipped, as the
   * quantizer always did.
   */
  public static GateVerdict labelled(ModelComparison c, double maxAucDrop, double maxMeanShift) {
    Map<String, Object> n = new LinkedHashMap<>();
    n.put("rows", c.reference().rows());
    n.put("labelled_rows", c.reference().labelledRows());
    n.put("auc_before", EvalReport.finite(c.reference().auc()));
    n.put("auc_after", EvalReport.finite(c.candidate().auc()));
    n.put("auc_delta", EvalReport.finite(c.aucDelta()));
    n.put("mean_prediction_relative_change", EvalReport.finite(c.meanPredictionRelativeChange()));
    n.put("max_auc_drop", maxAucDrop);
    n.put("max_mean_shift", maxMeanShift);
    List<String> v = new java.util.ArrayList<>();
    if (!Double.isNaN(c.aucDelta()) && Math.abs(c.aucDelta()) > maxAucDrop) {
      v.add(
          String.format(
              java.util.Locale.ROOT, "|dAUC| %.5f > %s", Math.abs(c.aucDelta()), maxAucDrop));
    }
    double shift = c.meanPredictionRelativeChange();
    if (!Double.isNaN(shift) && Math.abs(shift) > maxMeanShift) {
      v.add(
          String.format(
              java.util.Locale.ROOT,
              "mean prediction change %.4f outside +/-%s",
              shift,
              maxMeanShift));
    }
    return new GateVerdict(LABELLED, v.isEmpty(), n, v);
  }

  /** The label-free verdict of {@code c} under {@code bounds}. */
  public static GateVerdict labelFree(LabelFreeComparison c, LabelFreeComparison.Bounds bounds) {
    Map<String, Object> n = new LinkedHashMap<>(c.toMap());
    n.put("max_soft_auc_gap", bounds.maxSoftAucGap());
    n.put("max_mean_abs_diff", bounds.maxMeanAbsDiff());
    n.put("max_max_abs_diff", bounds.maxMaxAbsDiff());
    n.put("min_rank_agreement", bounds.minSpearman());
    n.put("min_mean_prediction_ratio", bounds.minMeanPredictionRatio());
    n.put("max_mean_prediction_ratio", bounds.maxMeanPredictionRatio());
    List<String> v = c.check(bounds);
    return new GateVerdict(LABEL_FREE, v.isEmpty(), n, v);
  }

  /** {@code {"mode": …, <numbers>…, "passed": …}} plus {@code "violations"} when it failed. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", mode);
    m.putAll(numbers);
    m.put("passed", passed);
    if (!violations.isEmpty()) {
      m.put("violations", violations);
    }
    return m;
  }
}
