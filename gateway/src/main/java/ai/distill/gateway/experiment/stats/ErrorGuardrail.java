package ai.distill.gateway.experiment.stats;

import java.util.Locale;

/**
 * Error guardrail of one student against the teacher, on each arm's own model errors (run failures,
 * timeouts); load shedding (429) is counted apart and never judged. Roll back when the student's
 * error rate exceeds the teacher's by more than {@code maxDifference} (1 point) or exceeds {@code
 * ceiling} (5%), each read on an always-valid bound so it may be evaluated after every request.
 * Immutable, pure.
 *
 * <p>The bounds are the asymptotic confidence sequence the CTR decision uses (Waudby-Smith et al.,
 * normal mixture: estimate ± σ̂·sqrt(2(nρ²+1)/(n²ρ²)·ln(sqrt(nρ²+1)/α)), ρ² tuned to {@code
 * plannedRequests}), not a fixed-sample Newcombe/Wilson interval: the engine reads them every
 * second, and a fixed 99% interval read that often would cross by chance. σ̂ uses the
 * Laplace-smoothed rate (x+1)/(n+2), so an arm with 0 errors never has zero variance; {@code
 * minRequests} per arm keep the asymptotics honest.
 *
 * @param minRequests model requests (successes + errors) per arm before judging (1,000)
 * @param maxDifference allowed student − teacher error rate (0.01)
 * @param ceiling allowed student error rate whatever the teacher does (0.05)
 * @param alpha error rate of the bounds (0.01)
 * @param plannedRequests requests (both arms) at which the sequence is tightest (20,000)
 */
public record ErrorGuardrail(
    long minRequests, double maxDifference, double ceiling, double alpha, long plannedRequests) {

  public static final ErrorGuardrail DEFAULT = new ErrorGuardrail(1_000, 0.01, 0.05, 0.01, 20_000);

  public ErrorGuardrail {
    if (minRequests <= 0) {
      throw new IllegalArgumentException("minRequests : " + minRequests + " (expected: > 0)");
    }
    if (!(maxDifference >= 0 && maxDifference < 1)) {
      throw new IllegalArgumentException(
          "maxDifference : " + maxDifference + " (expected: 0 <= d < 1)");
    }
    if (!(ceiling > 0 && ceiling <= 1)) {
      throw new IllegalArgumentException("ceiling : " + ceiling + " (expected: 0 < ceiling <= 1)");
    }
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha : " + alpha + " (expected: 0 < alpha < 1)");
    }
    if (plannedRequests <= 0) {
      throw new IllegalArgumentException(
          "plannedRequests : " + plannedRequests + " (expected: > 0)");
    }
  }

  /**
   * One arm's outcomes since the experiment (or its last reweight) began.
   *
   * @param successes requests the model answered
   * @param errors run failures and timeouts of the model
   * @param shed requests refused by load shedding (429): reported, never judged
   */
  public record Counts(long successes, long errors, long shed) {

    public Counts {
      if (successes < 0 || errors < 0 || shed < 0) {
        throw new IllegalArgumentException(
            "counts : "
                + successes
                + ", "
                + errors
                + ", "
                + shed
                + " (expected: successes, errors, shed >= 0)");
      }
    }

    /** Requests the model ran: successes + errors. */
    public long requests() {
      return successes + errors;
    }

    public double errorRate() {
      return requests() == 0 ? 0 : (double) errors / requests();
    }

    /** Shed requests over all requests, shed included. */
    public double shedRate() {
      long all = requests() + shed;
      return all == 0 ? 0 : (double) shed / all;
    }
  }

  /**
   * The judgement and its numbers (rates as fractions; bounds NaN while PENDING).
   *
   * @param differenceLower lower bound of student − teacher error rate
   * @param differenceUpper upper bound of student − teacher error rate
   * @param studentLower lower bound of the student's error rate
   */
  public record Result(
      GuardrailVerdict verdict,
      double studentRate,
      double teacherRate,
      double differenceLower,
      double differenceUpper,
      double studentLower,
      double studentShedRate,
      double teacherShedRate,
      String reason) {}

  /** PENDING below {@code minRequests} in either arm, ROLLBACK on a breach, otherwise PASS. */
  public Result judge(Counts student, Counts teacher) {
    double ps = student.errorRate();
    double pt = teacher.errorRate();
    long ns = student.requests();
    long nt = teacher.requests();
    if (ns < minRequests || nt < minRequests) {
      return new Result(
          GuardrailVerdict.PENDING,
          ps,
          pt,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          student.shedRate(),
          teacher.shedRate(),
          "collecting: student "
              + ns
              + ", teacher "
              + nt
              + " of "
              + minRequests
              + " model requests each");
    }
    double vs = smoothedVariance(student.errors(), ns);
    double vt = smoothedVariance(teacher.errors(), nt);
    long n = ns + nt;
    double diffHalf = halfWidth(Math.sqrt(n * (vs / ns + vt / nt)), n, plannedRequests);
    double d = ps - pt;
    double studentLower = ps - halfWidth(Math.sqrt(vs), ns, Math.max(1, plannedRequests / 2));
    double lower = d - diffHalf;
    double upper = d + diffHalf;
    GuardrailVerdict verdict;
    String reason;
    if (lower > maxDifference) {
      verdict = GuardrailVerdict.ROLLBACK;
      reason =
          "error rate "
              + pct(ps)
              + " vs teacher "
              + pct(pt)
              + ": difference lower bound "
              + pct(lower)
              + " > "
              + pct(maxDifference);
    } else if (studentLower > ceiling) {
      verdict = GuardrailVerdict.ROLLBACK;
      reason =
          "error rate "
              + pct(ps)
              + ": lower bound "
              + pct(studentLower)
              + " > ceiling "
              + pct(ceiling);
    } else {
      verdict = GuardrailVerdict.PASS;
      reason =
          "error rate "
              + pct(ps)
              + " vs teacher "
              + pct(pt)
              + ": difference in ["
              + pct(lower)
              + ", "
              + pct(upper)
              + "], not above "
              + pct(maxDifference);
    }
    return new Result(
        verdict,
        ps,
        pt,
        lower,
        upper,
        studentLower,
        student.shedRate(),
        teacher.shedRate(),
        reason);
  }

  /**
   * Half-width of the always-valid interval for a mean of n observations with standard deviation
   * sigma.
   */
  double halfWidth(double sigma, long n, long planned) {
    double l = -2 * Math.log(alpha);
    double rho2 = (l + Math.log(l + 1)) / planned;
    double scale = 2 * (n * rho2 + 1) / ((double) n * n * rho2);
    return sigma * Math.sqrt(scale * Math.log(Math.sqrt(n * rho2 + 1) / alpha));
  }

  private static double smoothedVariance(long errors, long n) {
    double p = (errors + 1.0) / (n + 2.0);
    return p * (1 - p);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.2f%%", v * 100);
  }
}
