package ai.distill.gateway.experiment.stats;

import java.util.Iterator;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Distribution-free confidence bounds for a quantile from order statistics: with n samples, the
 * true q-quantile lies between the order statistics at ranks floor(nq − z·sqrt(nq(1−q))) and
 * ceil(nq + z·sqrt(nq(1−q))) + 1 with probability about 1 − 2Φ(−z), whatever the distribution.
 * Immutable.
 *
 * <p>Ranks are 1-based. A lower rank below 1 is clamped to 1 (the minimum is always a conservative
 * lower bound); an upper rank above n means the data cannot bound the quantile from above, and
 * {@link #upper()} is NaN (read: +∞). From an HdrHistogram, the lower bound is the lowest and the
 * upper bound the highest value equivalent to its bucket, so quantisation only widens the interval.
 *
 * @param n number of samples
 * @param quantile q, in (0, 1)
 * @param estimate the order statistic at rank ceil(nq), NaN without samples
 * @param lower the lower bound, NaN without samples
 * @param upper the upper bound, NaN when it does not exist
 * @param lowerRank rank of the lower bound (0 without samples)
 * @param upperRank rank of the upper bound, may exceed n (then there is no upper bound)
 */
public record QuantileBounds(
    long n,
    double quantile,
    double estimate,
    double lower,
    double upper,
    long lowerRank,
    long upperRank) {

  /** z for a two-sided 99% interval. */
  public static final double DEFAULT_Z = 2.576;

  public boolean hasUpper() {
    return !Double.isNaN(upper);
  }

  /** Rank of the lower bound, clamped to [1, n]; 0 when n is 0. */
  static long lowerRank(long n, double q, double z) {
    if (n == 0) {
      return 0;
    }
    double nq = product(n, q);
    long r = (long) Math.floor(nq - z * Math.sqrt(nq * (1 - q)));
    return Math.max(1, Math.min(r, n));
  }

  /** Rank of the upper bound; above n when the samples cannot bound the quantile from above. */
  static long upperRank(long n, double q, double z) {
    double nq = product(n, q);
    return Math.max(1, (long) Math.ceil(nq + z * Math.sqrt(nq * (1 - q))) + 1);
  }

  /** Rank of the point estimate, in [1, n]. */
  static long estimateRank(long n, double q) {
    return Math.max(1, Math.min((long) Math.ceil(product(n, q)), n));
  }

  /**
   * n·q, snapped to the nearest integer when within rounding error of it (2000 × 0.99 is 1980, not
   * 1980.0000000002).
   */
  private static double product(long n, double q) {
    double nq = n * q;
    double r = Math.rint(nq);
    return Math.abs(nq - r) <= 1e-9 * Math.max(1, nq) ? r : nq;
  }

  /** The smallest n for which the upper bound exists. */
  public static long minSamplesForUpper(double q, double z) {
    check(q, z);
    long n = 1;
    while (upperRank(n, q, z) > n) {
      n++;
    }
    return n;
  }

  /** Bounds from samples sorted ascending. */
  public static QuantileBounds ofSorted(double[] sorted, double q, double z) {
    check(q, z);
    int n = sorted.length;
    if (n == 0) {
      return empty(q, z);
    }
    long lo = lowerRank(n, q, z);
    long hi = upperRank(n, q, z);
    return new QuantileBounds(
        n,
        q,
        sorted[(int) estimateRank(n, q) - 1],
        sorted[(int) lo - 1],
        hi <= n ? sorted[(int) hi - 1] : Double.NaN,
        lo,
        hi);
  }

  /** Bounds from samples sorted ascending. */
  public static QuantileBounds ofSorted(long[] sorted, double q, double z) {
    check(q, z);
    int n = sorted.length;
    if (n == 0) {
      return empty(q, z);
    }
    long lo = lowerRank(n, q, z);
    long hi = upperRank(n, q, z);
    return new QuantileBounds(
        n,
        q,
        sorted[(int) estimateRank(n, q) - 1],
        sorted[(int) lo - 1],
        hi <= n ? sorted[(int) hi - 1] : Double.NaN,
        lo,
        hi);
  }

  /** Bounds from a histogram, in the histogram's unit; one pass over its buckets. */
  public static QuantileBounds of(Histogram histogram, double q, double z) {
    check(q, z);
    long n = histogram.getTotalCount();
    if (n == 0) {
      return empty(q, z);
    }
    long lo = lowerRank(n, q, z);
    long mid = estimateRank(n, q);
    long hi = upperRank(n, q, z);
    double lower = Double.NaN;
    double estimate = Double.NaN;
    double upper = Double.NaN;
    Iterator<HistogramIterationValue> it = histogram.recordedValues().iterator();
    while (it.hasNext()) {
      HistogramIterationValue v = it.next();
      long cumulative = v.getTotalCountToThisValue();
      long value = v.getValueIteratedTo();
      if (Double.isNaN(lower) && cumulative >= lo) {
        lower = histogram.lowestEquivalentValue(value);
      }
      if (Double.isNaN(estimate) && cumulative >= mid) {
        estimate = histogram.highestEquivalentValue(value);
      }
      if (hi <= n && cumulative >= hi) {
        upper = histogram.highestEquivalentValue(value);
        break;
      }
    }
    return new QuantileBounds(n, q, estimate, lower, upper, lo, hi);
  }

  private static QuantileBounds empty(double q, double z) {
    return new QuantileBounds(0, q, Double.NaN, Double.NaN, Double.NaN, 0, upperRank(0, q, z));
  }

  private static void check(double q, double z) {
    if (!(q > 0 && q < 1)) {
      throw new IllegalArgumentException("quantile : " + q + " (expected: 0 < q < 1)");
    }
    if (!(z > 0 && Double.isFinite(z))) {
      throw new IllegalArgumentException("z : " + z + " (expected: > 0)");
    }
  }
}
