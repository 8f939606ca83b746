package ai.distill.optimizer.distill;

import java.util.Random;

/**
 * Samples a Zipf (zeta) distribution with exponent {@code s > 1} on 1, 2, 3, … by Devroye's
 * rejection method (the algorithm numpy's {@code zipf} uses), or a bounded Zipf on 1..n by inverse
 * CDF. Immutable; thread-safe given a per-thread {@link Random}.
 */
public final class ZipfSampler {

  private final double exponent;
  private final double[] cdf;

  private ZipfSampler(double exponent, double[] cdf) {
    this.exponent = exponent;
    this.cdf = cdf;
  }

  /** Unbounded support 1, 2, 3, … (exponent must exceed 1). */
  public static ZipfSampler unbounded(double exponent) {
    if (!(exponent > 1)) {
      throw new IllegalArgumentException(
          "exponent : " + exponent + " (expected: > 1 for an unbounded Zipf)");
    }
    return new ZipfSampler(exponent, null);
  }

  /** Support 1..n with P(k) ∝ k^-exponent. */
  public static ZipfSampler bounded(double exponent, int n) {
    if (!(exponent > 0) || n < 1) {
      throw new IllegalArgumentException(
          "exponent : " + exponent + ", n : " + n + " (expected: > 0 and >= 1)");
    }
    double[] cdf = new double[n];
    double sum = 0;
    for (int k = 1; k <= n; k++) {
      sum += Math.pow(k, -exponent);
      cdf[k - 1] = sum;
    }
    for (int k = 0; k < n; k++) {
      cdf[k] /= sum;
    }
    return new ZipfSampler(exponent, cdf);
  }

  /** One draw (≥ 1); unbounded draws beyond 2^62 are returned as 2^62. */
  public long sample(Random random) {
    if (cdf != null) {
      double u = random.nextDouble();
      int i = java.util.Arrays.binarySearch(cdf, u);
      int k = i >= 0 ? i : -i - 1;
      return Math.min(k, cdf.length - 1) + 1L;
    }
    double am1 = exponent - 1;
    double b = Math.pow(2, am1);
    while (true) {
      double u = 1 - random.nextDouble();
      double v = random.nextDouble();
      double x = Math.floor(Math.pow(u, -1 / am1));
      if (x < 1) {
        continue;
      }
      if (x > 0x1p62) {
        return 1L << 62;
      }
      double t = Math.pow(1 + 1 / x, am1);
      if (v * x * (t - 1) / (b - 1) <= t / b) {
        return (long) x;
      }
    }
  }
}
