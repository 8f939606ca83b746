package ai.distill.gateway.experiment.stats;

/**
 * An always-valid (asymptotic) confidence sequence for the non-inferiority of a student's CTR
 * against the teacher's, so the result may be read after every event without inflating errors.
 *
 * <p>D̂ = ĉ_S − m·ĉ_T, n = exposed users of both arms, σ̂² = n·(V̂_S + m²·V̂_T), and the interval
 * is D̂ ± σ̂·sqrt(2(nρ²+1)/(n²ρ²) · ln(sqrt(nρ²+1)/α)) with ρ² = (−2 ln α + ln(−2 ln α + 1)) / n*
 * (Waudby-Smith et al.; the form GrowthBook and Eppo use). Pure and thread-safe.
 *
 * @param alpha the error rate, e.g. 0.05
 * @param plannedUsers n*, the number of users the sequence is tuned to be tightest at
 */
public record ConfidenceSequence(double alpha, long plannedUsers) {

  public static final ConfidenceSequence DEFAULT = new ConfidenceSequence(0.05, 10_000);

  public ConfidenceSequence {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha : " + alpha + " (expected: 0 < alpha < 1)");
    }
    if (plannedUsers <= 0) {
      throw new IllegalArgumentException("plannedUsers : " + plannedUsers + " (expected: > 0)");
    }
  }

  /** What the interval says. */
  public enum Verdict {
    NON_INFERIOR,
    INFERIOR,
    INCONCLUSIVE
  }

  /**
   * The numbers behind one comparison.
   *
   * @param pValue always-valid p-value for H0 "D ≤ 0" (the smallest α at which the lower bound,
   *     with this ρ, clears 0); used for Benjamini–Hochberg across students
   */
  public record Result(
      double difference,
      double sigma,
      double lower,
      double upper,
      long users,
      double pValue,
      Verdict verdict) {}

  /** ρ² for the configured α and n*. */
  public double rhoSquared() {
    double l = -2 * Math.log(alpha);
    return (l + Math.log(l + 1)) / plannedUsers;
  }

  /**
   * Compares a student arm against the teacher arm.
   *
   * @param student clicks/impressions ratio ĉ_S and its delta-method variance V̂_S
   * @param teacher the same for the teacher
   * @param margin m, e.g. 0.99: the student may be at most 1% worse
   * @param users n, exposed users of both arms
   */
  public Result compare(
      double student,
      double studentVariance,
      double teacher,
      double teacherVariance,
      double margin,
      long users) {
    double d = student - margin * teacher;
    if (users < 2 || Double.isNaN(studentVariance) || Double.isNaN(teacherVariance)) {
      return new Result(
          d,
          Double.NaN,
          Double.NEGATIVE_INFINITY,
          Double.POSITIVE_INFINITY,
          users,
          1.0,
          Verdict.INCONCLUSIVE);
    }
    double n = users;
    double sigma = Math.sqrt(n * (studentVariance + margin * margin * teacherVariance));
    double rho2 = rhoSquared();
    double scale = 2 * (n * rho2 + 1) / (n * n * rho2);
    double half = sigma * Math.sqrt(scale * Math.log(Math.sqrt(n * rho2 + 1) / alpha));
    double lower = d - half;
    double upper = d + half;
    double p;
    if (sigma == 0) {
      p = d > 0 ? 0 : 1;
    } else if (d <= 0) {
      p = 1;
    } else {
      double z = d / sigma;
      p = Math.min(1, Math.sqrt(n * rho2 + 1) * Math.exp(-z * z / scale));
    }
    Verdict verdict =
        lower > 0 ? Verdict.NON_INFERIOR : upper < 0 ? Verdict.INFERIOR : Verdict.INCONCLUSIVE;
    return new Result(d, sigma, lower, upper, users, p, verdict);
  }
}
