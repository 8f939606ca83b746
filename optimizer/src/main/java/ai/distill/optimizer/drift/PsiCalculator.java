package ai.distill.optimizer.drift;

import ai.distill.store.rows.Row;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Population stability index of recent rows against a {@link ReferenceSketch}, per column: {@code
 * PSI = Σ (a_i − e_i) · ln(a_i / e_i)} over the column's bins, {@code e_i} the reference share and
 * {@code a_i} the share of the recent values in bin {@code i}. Both shares are floored at {@link
 * #EPSILON} so an empty bin costs a bounded amount instead of infinity. Memory is one counter per
 * bin, whatever the number of rows. The calculator is immutable and thread-safe; an {@link
 * Accumulator} is not.
 */
public final class PsiCalculator {

  /**
   * Floor of a share in the PSI sum: 1e-4 is one row in 10,000, the size of a default reference
   * sample, so a bin the reference never saw weighs like one it saw once. A column whose recent
   * values all land in such a bin scores about {@code ln(1e4) ≈ 9.2}.
   */
  public static final double EPSILON = 1e-4;

  private final ReferenceSketch sketch;

  public PsiCalculator(ReferenceSketch sketch) {
    this.sketch = Objects.requireNonNull(sketch, "sketch");
  }

  public ReferenceSketch sketch() {
    return sketch;
  }

  /** The drift of {@code rows}; rows that do not fit the sketch are counted and skipped. */
  public DriftReport compute(Iterable<? extends Row> rows) {
    return compute(rows.iterator());
  }

  public DriftReport compute(Iterator<? extends Row> rows) {
    Accumulator acc = accumulator();
    while (rows.hasNext()) {
      acc.add(rows.next());
    }
    return acc.report();
  }

  /** A fresh accumulator, to feed rows one at a time (from a capture tail, say). */
  public Accumulator accumulator() {
    return new Accumulator();
  }

  /**
   * PSI of {@code actual} against {@code expected} shares (same length), both floored at {@link
   * #EPSILON}; NaN for no bins.
   */
  public static double psi(double[] expected, double[] actual) {
    if (expected.length != actual.length) {
      throw new IllegalArgumentException(
          "actual : " + actual.length + " bins (expected: " + expected.length + ")");
    }
    if (expected.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.max(expected[i], EPSILON);
      double a = Math.max(actual[i], EPSILON);
      sum += (a - e) * Math.log(a / e);
    }
    return sum;
  }

  /** Bin counts of the rows added so far. Not thread-safe. */
  public final class Accumulator {
    private final List<ColumnSketch> columns = sketch.columns();
    private final long[][] counts = new long[columns.size()][];
    private final long[] totals = new long[columns.size()];
    private long used;
    private long skipped;
    private String firstSkipReason;

    private Accumulator() {
      for (int c = 0; c < counts.length; c++) {
        counts[c] = new long[columns.get(c).bins()];
      }
    }

    /**
     * Counts {@code row}; false when it does not fit the sketch's inputs (then it is only counted
     * as skipped).
     */
    public boolean add(Row row) {
      String why = InputSpec.mismatch(sketch.inputs(), row);
      if (why != null) {
        skipped++;
        if (firstSkipReason == null) {
          firstSkipReason = why;
        }
        return false;
      }
      used++;
      int c = 0;
      for (InputSpec in : sketch.inputs()) {
        for (double v : row.inputs().get(in.name()).values()) {
          int bin = columns.get(c).bin(v);
          if (bin >= 0) {
            counts[c][bin]++;
            totals[c]++;
          }
          c++;
        }
      }
      return true;
    }

    public long rowsUsed() {
      return used;
    }

    public long rowsSkipped() {
      return skipped;
    }

    /** The report of the rows added so far; every PSI is NaN when none fitted. */
    public DriftReport report() {
      Map<String, Double> psi = new LinkedHashMap<>();
      double max = Double.NaN;
      String maxColumn = null;
      double sum = 0;
      int n = 0;
      for (int c = 0; c < counts.length; c++) {
        ColumnSketch col = columns.get(c);
        double p = Double.NaN;
        if (totals[c] > 0) {
          double[] expected = new double[col.bins()];
          double[] actual = new double[col.bins()];
          for (int b = 0; b < expected.length; b++) {
            expected[b] = col.share(b);
            actual[b] = (double) counts[c][b] / totals[c];
          }
          p = psi(expected, actual);
        }
        psi.put(col.name(), p);
        if (!Double.isNaN(p)) {
          sum += p;
          n++;
          if (maxColumn == null || p > max) {
            max = p;
            maxColumn = col.name();
          }
        }
      }
      return new DriftReport(
          psi, max, maxColumn, n == 0 ? Double.NaN : sum / n, used, skipped, firstSkipReason);
    }
  }
}
