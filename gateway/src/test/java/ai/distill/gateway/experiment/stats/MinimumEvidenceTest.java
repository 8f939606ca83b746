package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MinimumEvidenceTest {

  /**
   * The decision's confidence sequence (DESIGN, "Experiments and statistics"), here only to show
   * what the floored figures lead to: [lower, upper] of CTR_S − m·CTR_T, α = 0.05, n* = 10,000.
   */
  private static double[] interval(
      MinimumEvidence.Arm s, MinimumEvidence.Arm t, MinimumEvidence.Floored f, double margin) {
    double d = (double) s.clicks() / s.impressions() - margin * t.clicks() / t.impressions();
    double n = s.users() + t.users();
    double sigma = Math.sqrt(n * (f.studentVariance() + margin * margin * f.teacherVariance()));
    double l = -2 * Math.log(0.05);
    double rho2 = (l + Math.log(l + 1)) / 10_000;
    double scale = 2 * (n * rho2 + 1) / (n * n * rho2);
    double half = sigma * Math.sqrt(scale * Math.log(Math.sqrt(n * rho2 + 1) / 0.05));
    return new double[] {d - half, d + half};
  }

  private static MinimumEvidence.Verdict decide(MinimumEvidence.Arm s, MinimumEvidence.Arm t) {
    MinimumEvidence.Floored f = MinimumEvidence.DEFAULT.floor(s, t);
    double[] ci = interval(s, t, f, 0.99);
    return f.verdict(ci[0], ci[1]);
  }

  @Test
  void two_plus_two_users_with_zero_variance_are_never_non_inferior() {
    // every user saw 1 impression and clicked: σ̂ = 0, and the unfloored interval would be [0.01,
    // 0.01]
    MinimumEvidence.Arm s = new MinimumEvidence.Arm(2, 2, 2, 0);
    MinimumEvidence.Arm t = new MinimumEvidence.Arm(2, 2, 2, 0);
    assertEquals(MinimumEvidence.Verdict.INCONCLUSIVE, decide(s, t));
    MinimumEvidence.Floored f = MinimumEvidence.DEFAULT.floor(s, t);
    assertFalse(f.allowsNonInferior());
    assertEquals("30 clicks per arm (student 2, teacher 2)", f.missing());
    // even a sloppy lower bound above 0 cannot promote without the clicks
    assertEquals(MinimumEvidence.Verdict.INCONCLUSIVE, f.verdict(0.01, 0.02));
    // a mixed pool has a positive floor: 2 clicks of 4 impressions → p̂ = 0.5, floor 0.25 / 2
    MinimumEvidence.Floored mixed =
        MinimumEvidence.DEFAULT.floor(
            new MinimumEvidence.Arm(2, 2, 1, 0), new MinimumEvidence.Arm(2, 2, 1, 0));
    assertEquals(0.125, mixed.studentVariance(), 1e-12);
    assertEquals(0.125, mixed.teacherVariance(), 1e-12);
    assertEquals(
        "at least 2 users per arm (student 1, teacher 2)",
        MinimumEvidence.DEFAULT.floor(new MinimumEvidence.Arm(1, 1, 1, Double.NaN), t).missing());
  }

  @Test
  void a_clear_non_inferiority_with_enough_data_is_declared() {
    // 20,000 users per arm, 5 impressions each, CTR 10.6% vs 10.0%, a realistic user-level variance
    MinimumEvidence.Arm s =
        new MinimumEvidence.Arm(20_000, 100_000, 10_600, 0.106 * 0.894 / 100_000 * 1.3);
    MinimumEvidence.Arm t =
        new MinimumEvidence.Arm(20_000, 100_000, 10_000, 0.1 * 0.9 / 100_000 * 1.3);
    MinimumEvidence.Floored f = MinimumEvidence.DEFAULT.floor(s, t);
    assertNull(f.missing());
    assertEquals(
        s.variance(), f.studentVariance(), 0, "a user-level variance above the floor is kept");
    assertEquals(MinimumEvidence.Verdict.NON_INFERIOR, decide(s, t));
  }

  @Test
  void a_student_that_stopped_producing_clicks_is_still_inferior() {
    MinimumEvidence.Arm s = new MinimumEvidence.Arm(1_000, 5_000, 0, 0);
    MinimumEvidence.Arm t = new MinimumEvidence.Arm(1_000, 5_000, 500, 0.1 * 0.9 / 5_000);
    MinimumEvidence.Floored f = MinimumEvidence.DEFAULT.floor(s, t);
    assertNotEquals(
        0, f.studentVariance(), "the floor uses the pooled CTR, not the student's own 0");
    assertTrue(f.allowsInferior());
    assertFalse(f.allowsNonInferior());
    assertEquals(MinimumEvidence.Verdict.INFERIOR, decide(s, t));
  }

  @Test
  void an_undefined_variance_falls_back_to_the_floor() {
    MinimumEvidence.Floored f =
        MinimumEvidence.DEFAULT.floor(
            new MinimumEvidence.Arm(5, 100, 10, Double.NaN),
            new MinimumEvidence.Arm(5, 100, 30, 1e-9));
    assertEquals(0.2 * 0.8 / 100, f.studentVariance(), 1e-15);
    assertEquals(0.2 * 0.8 / 100, f.teacherVariance(), 1e-15);
    assertEquals(0.2, f.pooledCtr(), 1e-15);
    assertEquals(
        "minClicks : -1 (expected: >= 0)",
        assertThrows(IllegalArgumentException.class, () -> new MinimumEvidence(-1, 1))
            .getMessage());
  }
}
