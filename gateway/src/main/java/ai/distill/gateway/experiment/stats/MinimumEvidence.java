package ai.distill.gateway.experiment.stats;

/**
 * The minimum-evidence rule of the CTR decision: before a confidence sequence may call a student
 * non-inferior or inferior, each arm's ratio variance is floored at the Bernoulli variance of the
 * pooled CTR over that arm's impressions (so 2 + 2 users with σ̂ = 0 cannot produce a zero-width
 * interval), and both arms need {@code minClicks} clicks for non-inferiority (the teacher alone for
 * inferiority, so a student that stopped producing clicks is still caught). Immutable, pure.
 *
 * <pre>
 * MinimumEvidence.Floored f = MinimumEvidence.DEFAULT.floor(student, teacher);
 * // run the confidence sequence on f.studentVariance() and f.teacherVariance(), then:
 * MinimumEvidence.Verdict v = f.verdict(lower, upper);
 * </pre>
 *
 * @param minClicks clicks per arm before a non-inferior verdict (30)
 * @param floorFactor k in V̂ ≥ k·p̂(1−p̂)/impressions, p̂ the pooled CTR (1: the
 *     impressions-as-independent variance)
 */
public record MinimumEvidence(long minClicks, double floorFactor) {

  public static final MinimumEvidence DEFAULT = new MinimumEvidence(30, 1.0);

  public MinimumEvidence {
    if (minClicks < 0) {
      throw new IllegalArgumentException("minClicks : " + minClicks + " (expected: >= 0)");
    }
    if (!(floorFactor >= 0 && Double.isFinite(floorFactor))) {
      throw new IllegalArgumentException("floorFactor : " + floorFactor + " (expected: >= 0)");
    }
  }

  /** What the CTR decision may conclude. */
  public enum Verdict {
    NON_INFERIOR,
    INFERIOR,
    INCONCLUSIVE
  }

  /**
   * One arm's CTR figures.
   *
   * @param variance the user-level delta-method variance of clicks/impressions; NaN when undefined
   */
  public record Arm(long users, long impressions, long clicks, double variance) {

    public Arm {
      if (users < 0 || impressions < 0 || clicks < 0) {
        throw new IllegalArgumentException(
            "arm : "
                + users
                + " users, "
                + impressions
                + " impressions, "
                + clicks
                + " clicks (expected: all >= 0)");
      }
    }
  }

  /**
   * The variances to feed the confidence sequence, and what the evidence allows.
   *
   * @param allowsNonInferior both arms have 2+ users and {@code minClicks} clicks
   * @param allowsInferior both arms have 2+ users and the teacher has {@code minClicks} clicks
   * @param missing null when both verdicts are allowed, else what is missing, in words
   */
  public record Floored(
      double studentVariance,
      double teacherVariance,
      double pooledCtr,
      boolean allowsNonInferior,
      boolean allowsInferior,
      String missing) {

    /**
     * The verdict of an interval [lower, upper] for CTR_S − m·CTR_T computed on these variances.
     */
    public Verdict verdict(double lower, double upper) {
      if (lower > 0 && allowsNonInferior) {
        return Verdict.NON_INFERIOR;
      }
      if (upper < 0 && allowsInferior) {
        return Verdict.INFERIOR;
      }
      return Verdict.INCONCLUSIVE;
    }
  }

  public Floored floor(Arm student, Arm teacher) {
    long impressions = student.impressions() + teacher.impressions();
    double pooled =
        impressions == 0 ? 0 : (double) (student.clicks() + teacher.clicks()) / impressions;
    double vs = floored(student, pooled);
    double vt = floored(teacher, pooled);
    boolean users = student.users() >= 2 && teacher.users() >= 2;
    boolean teacherClicks = teacher.clicks() >= minClicks;
    boolean studentClicks = student.clicks() >= minClicks;
    String missing = null;
    if (!users) {
      missing =
          "at least 2 users per arm (student "
              + student.users()
              + ", teacher "
              + teacher.users()
              + ")";
    } else if (!teacherClicks || !studentClicks) {
      missing =
          minClicks
              + " clicks per arm (student "
              + student.clicks()
              + ", teacher "
              + teacher.clicks()
              + ")";
    }
    return new Floored(
        vs, vt, pooled, users && teacherClicks && studentClicks, users && teacherClicks, missing);
  }

  private double floored(Arm arm, double pooled) {
    if (arm.impressions() == 0) {
      return Double.NaN;
    }
    double p = Math.min(1, pooled); // clicks per impression may exceed 1 in odd data
    double floor = floorFactor * p * (1 - p) / arm.impressions();
    return Double.isNaN(arm.variance()) ? floor : Math.max(arm.variance(), floor);
  }
}
