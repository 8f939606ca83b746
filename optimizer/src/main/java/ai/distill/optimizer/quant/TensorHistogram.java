package ai.distill.optimizer.quant;

import java.util.Arrays;

/**
 * Streaming statistics of one tensor: count, min, max and a fixed-size histogram whose range widens
 * as values arrive. Widening doubles the bin width and merges neighbouring bins pairwise, so bins
 * stay aligned and counts stay exact (no re-interpolation). Memory is O(bins) however many values
 * are added. Not thread-safe.
 */
public final class TensorHistogram {

  private final long[] counts;
  private double origin;
  private double width;
  private long count;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private long nonFinite;

  public TensorHistogram(int bins) {
    if (bins < 16 || bins % 2 != 0) {
      throw new IllegalArgumentException("bins : " + bins + " (expected: even and >= 16)");
    }
    this.counts = new long[bins];
  }

  /** Adds values; NaN and infinities are counted separately and otherwise ignored. */
  public void add(float[] values) {
    add(values, 0, values.length);
  }

  public void add(float[] values, int from, int to) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      float v = values[i];
      if (Float.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (lo > hi) {
      nonFinite += to - from;
      return;
    }
    if (count == 0) {
      origin = lo;
      double span = hi - lo;
      width = span > 0 ? span / counts.length : Math.max(Math.abs(lo), 1e-6) * 1e-3;
    }
    widenToCover(lo, hi);
    int n = counts.length;
    for (int i = from; i < to; i++) {
      float v = values[i];
      if (!Float.isFinite(v)) {
        nonFinite++;
        continue;
      }
      int b = (int) ((v - origin) / width);
      counts[Math.max(0, Math.min(n - 1, b))]++;
      count++;
    }
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }

  private void widenToCover(double lo, double hi) {
    int n = counts.length;
    while (lo < origin || hi > origin + n * width) {
      long[] merged = new long[n];
      int shift;
      if (lo < origin) {
        origin -= n * width;
        shift = n;
      } else {
        shift = 0;
      }
      for (int i = 0; i < n; i++) {
        merged[(i + shift) / 2] += counts[i];
      }
      System.arraycopy(merged, 0, counts, 0, n);
      width *= 2;
    }
  }

  public long count() {
    return count;
  }

  public long nonFinite() {
    return nonFinite;
  }

  public double min() {
    return min;
  }

  public double max() {
    return max;
  }

  public int bins() {
    return counts.length;
  }

  public double origin() {
    return origin;
  }

  public double binWidth() {
    return width;
  }

  public long[] counts() {
    return counts.clone();
  }

  /**
   * The value below which {@code fraction} of the values lie, interpolated linearly inside the bin
   * and clamped to [min, max].
   */
  public double quantile(double fraction) {
    if (count == 0) {
      throw new IllegalStateException("no values");
    }
    double target = fraction * count;
    long cum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && cum + counts[i] >= target) {
        double inside = (target - cum) / counts[i];
        double v = origin + (i + Math.max(0, Math.min(1, inside))) * width;
        return Math.max(min, Math.min(max, v));
      }
      cum += counts[i];
    }
    return max;
  }

  /**
   * The KL-divergence threshold of TensorRT / ONNX Runtime's entropy calibration, computed on the
   * histogram of |x|: the clipping threshold whose {@code quantizedBins}-level quantization of the
   * clipped distribution loses the least information.
   */
  public double entropyThreshold(int quantizedBins) {
    if (count == 0) {
      throw new IllegalStateException("no values");
    }
    double absMax = Math.max(Math.abs(min), Math.abs(max));
    int m = (int) Math.ceil(absMax / width) + 1;
    long[] abs = new long[m];
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        double center = Math.abs(origin + (i + 0.5) * width);
        abs[Math.min(m - 1, (int) (center / width))] += counts[i];
      }
    }
    while (m > 1 && abs[m - 1] == 0) {
      m--;
    }
    if (m <= quantizedBins) {
      return absMax;
    }
    double best = Double.POSITIVE_INFINITY;
    int bestI = m;
    double[] p = new double[m];
    double[] q = new double[m];
    for (int i = quantizedBins; i <= m; i++) {
      long outliers = 0;
      for (int k = i; k < m; k++) {
        outliers += abs[k];
      }
      for (int k = 0; k < i; k++) {
        p[k] = abs[k];
      }
      p[i - 1] += outliers;
      Arrays.fill(q, 0, i, 0);
      double merge = (double) i / quantizedBins;
      for (int j = 0; j < quantizedBins; j++) {
        int start = (int) Math.floor(j * merge);
        int end = j == quantizedBins - 1 ? i : (int) Math.floor((j + 1) * merge);
        long total = 0;
        int nonZero = 0;
        for (int k = start; k < end; k++) {
          total += abs[k];
          if (abs[k] != 0) {
            nonZero++;
          }
        }
        for (int k = start; k < end; k++) {
          q[k] = abs[k] == 0 || nonZero == 0 ? 0 : (double) total / nonZero;
        }
      }
      double kl = klDivergence(p, q, i);
      if (kl < best) {
        best = kl;
        bestI = i;
      }
    }
    return Math.min(absMax, bestI * width);
  }

  private static double klDivergence(double[] p, double[] q, int n) {
    double ps = 0;
    double qs = 0;
    for (int k = 0; k < n; k++) {
      ps += p[k];
      qs += q[k];
    }
    if (ps == 0 || qs == 0) {
      return Double.POSITIVE_INFINITY;
    }
    double kl = 0;
    for (int k = 0; k < n; k++) {
      if (p[k] > 0) {
        double pk = p[k] / ps;
        // q is zero where p is not only in the outlier bin; smooth it like TensorRT does
        double qk = Math.max(q[k] / qs, 1e-10);
        kl += pk * Math.log(pk / qk);
      }
    }
    return kl;
  }
}
