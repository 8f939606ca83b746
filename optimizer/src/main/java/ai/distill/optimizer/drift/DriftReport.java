package ai.distill.optimizer.drift;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The drift of a batch of rows against a {@link ReferenceSketch}: the population stability index
 * per column and its max and mean. Rule of thumb for PSI: below 0.1 stable, 0.1–0.25 moderate
 * shift, above 0.25 a real shift.
 *
 * @param psi column name → PSI, in column order; NaN for a column that had no counted value (a
 *     float column of NaNs, or a column the reference had no value for)
 * @param max the largest PSI, NaN when no column has one
 * @param maxColumn the column with the largest PSI, or null
 * @param mean the mean PSI over the columns that have one, NaN when none
 * @param rowsUsed rows that fitted the sketch's inputs
 * @param rowsSkipped rows that did not (a missing input, another element count, a non-integer id)
 * @param firstSkipReason why the first skipped row did not fit, or null
 */
public record DriftReport(
    Map<String, Double> psi,
    double max,
    String maxColumn,
    double mean,
    long rowsUsed,
    long rowsSkipped,
    String firstSkipReason) {

  public DriftReport {
    psi = Collections.unmodifiableMap(new LinkedHashMap<>(psi));
  }

  /** True when some column's PSI is above {@code threshold}. */
  public boolean exceeds(double threshold) {
    return max > threshold;
  }

  /** The columns whose PSI is above {@code threshold}, in column order. */
  public List<String> columnsAbove(double threshold) {
    List<String> out = new ArrayList<>();
    psi.forEach(
        (c, v) -> {
          if (v > threshold) {
            out.add(c);
          }
        });
    return out;
  }

  /** JSON-compatible form; NaN values become null. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    Map<String, Object> cols = new LinkedHashMap<>();
    psi.forEach((c, v) -> cols.put(c, finite(v)));
    m.put("max", finite(max));
    m.put("max_column", maxColumn);
    m.put("mean", finite(mean));
    m.put("rows_used", rowsUsed);
    m.put("rows_skipped", rowsSkipped);
    m.put("first_skip_reason", firstSkipReason);
    m.put("psi", cols);
    return m;
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
