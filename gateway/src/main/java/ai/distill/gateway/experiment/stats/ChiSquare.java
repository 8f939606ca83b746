package ai.distill.gateway.experiment.stats;

/**
 * Chi-square goodness of fit for sample-ratio mismatch, with the survival function computed from
 * the regularized upper incomplete gamma function (series below a+1, Lentz continued fraction
 * above). Pure and thread-safe.
 */
public final class ChiSquare {

  private static final double EPS = 1e-15;
  private static final int MAX_ITERATIONS = 10_000;
  private static final double[] LANCZOS = {
    676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
  };

  private ChiSquare() {}

  /**
   * p-value of observed counts against expected shares (shares need not sum to 1; zero-share
   * categories are skipped and must have zero counts to contribute nothing). Returns 1 with fewer
   * than two categories or no observations.
   */
  public static double goodnessOfFitPValue(long[] observed, double[] shares) {
    if (observed.length != shares.length) {
      throw new IllegalArgumentException(
          "shares : " + shares.length + " (expected: " + observed.length + ")");
    }
    double totalShare = 0;
    long n = 0;
    int categories = 0;
    for (int i = 0; i < shares.length; i++) {
      if (shares[i] > 0) {
        totalShare += shares[i];
        n += observed[i];
        categories++;
      }
    }
    if (categories < 2 || n == 0) {
      return 1.0;
    }
    double statistic = 0;
    for (int i = 0; i < shares.length; i++) {
      if (shares[i] > 0) {
        double expected = n * shares[i] / totalShare;
        double d = observed[i] - expected;
        statistic += d * d / expected;
      }
    }
    return survival(statistic, categories - 1);
  }

  /** P(X > x) for X ~ chi-square with k degrees of freedom. */
  public static double survival(double x, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("degrees of freedom : " + k + " (expected: > 0)");
    }
    if (x <= 0) {
      return 1.0;
    }
    return regularizedGammaQ(k / 2.0, x / 2.0);
  }

  /** Q(a, x) = Γ(a, x) / Γ(a). */
  static double regularizedGammaQ(double a, double x) {
    if (x < a + 1) {
      return 1.0 - lowerSeries(a, x);
    }
    return upperContinuedFraction(a, x);
  }

  private static double lowerSeries(double a, double x) {
    double sum = 1.0 / a;
    double term = sum;
    for (int n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) {
        break;
      }
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }

  private static double upperContinuedFraction(double a, double x) {
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < MAX_ITERATIONS; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      if (Math.abs(d) < tiny) {
        d = tiny;
      }
      c = b + an / c;
      if (Math.abs(c) < tiny) {
        c = tiny;
      }
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < EPS) {
        break;
      }
    }
    return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }

  /** ln Γ(x) for x > 0 (Lanczos, g = 7), accurate to ~1e-15 relative. */
  static double logGamma(double x) {
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    x -= 1;
    double a = 0.99999999999980993;
    double t = x + 7.5;
    for (int i = 0; i < LANCZOS.length; i++) {
      a += LANCZOS[i] / (x + i + 1);
    }
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
  }
}
