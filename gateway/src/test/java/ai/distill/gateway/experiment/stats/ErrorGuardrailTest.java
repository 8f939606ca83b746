package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ErrorGuardrailTest {

  private static final ErrorGuardrail GUARD = ErrorGuardrail.DEFAULT;

  /**
   * Requests arrive one per arm at a time and the guardrail is read every 100; returns the requests
   * per arm at the first ROLLBACK, 0 when none by {@code requests}.
   */
  private static long firstRollback(
      SplittableRandom rnd, double studentRate, double teacherRate, int requests) {
    long se = 0;
    long te = 0;
    for (int n = 1; n <= requests; n++) {
      se += rnd.nextDouble() < studentRate ? 1 : 0;
      te += rnd.nextDouble() < teacherRate ? 1 : 0;
      if (n % 100 == 0
          && GUARD
                  .judge(
                      new ErrorGuardrail.Counts(n - se, se, 0),
                      new ErrorGuardrail.Counts(n - te, te, 0))
                  .verdict()
              == GuardrailVerdict.ROLLBACK) {
        return n;
      }
    }
    return 0;
  }

  @Test
  void a_student_failing_5_percent_against_a_clean_teacher_is_rolled_back() {
    int runs = 50;
    int flagged = 0;
    long sum = 0;
    for (int seed = 0; seed < runs; seed++) {
      long at = firstRollback(new SplittableRandom(seed), 0.05, 0, 5_000);
      flagged += at > 0 ? 1 : 0;
      sum += at;
    }
    SequentialSrmTest.report(
        "student 5% errors vs teacher 0%, read every 100 requests (mean first rollback at "
            + (flagged == 0 ? 0 : sum / flagged)
            + " requests per arm)",
        runs,
        "rolled back by 5,000",
        flagged);
    assertEquals(runs, flagged);
    ErrorGuardrail.Result r =
        GUARD.judge(
            new ErrorGuardrail.Counts(1_900, 100, 0), new ErrorGuardrail.Counts(2_000, 0, 0));
    assertEquals(GuardrailVerdict.ROLLBACK, r.verdict());
    assertTrue(r.differenceLower() > 0.01, r.toString());
    assertTrue(
        r.reason().startsWith("error rate 5.00% vs teacher 0.00%: difference lower bound "),
        r.reason());
  }

  @Test
  void load_shedding_alone_never_breaches() {
    ErrorGuardrail.Result r =
        GUARD.judge(
            new ErrorGuardrail.Counts(10_000, 0, 5_000), new ErrorGuardrail.Counts(10_000, 0, 0));
    assertEquals(GuardrailVerdict.PASS, r.verdict());
    assertEquals(0, r.studentRate(), 0);
    assertEquals(5_000.0 / 15_000, r.studentShedRate(), 1e-12);
    assertEquals(0, r.teacherShedRate(), 0);
    assertEquals(
        GuardrailVerdict.PENDING,
        GUARD
            .judge(
                new ErrorGuardrail.Counts(10, 0, 50_000), new ErrorGuardrail.Counts(10_000, 0, 0))
            .verdict(),
        "shed requests do not count towards the minimum");
  }

  @Test
  void identical_small_error_rates_read_continuously_do_not_breach() {
    int runs = 200;
    int flagged = 0;
    for (int seed = 0; seed < runs; seed++) {
      flagged +=
          firstRollback(new SplittableRandom(10_000 + seed), 0.005, 0.005, 20_000) > 0 ? 1 : 0;
    }
    SequentialSrmTest.report(
        "both arms 0.5% errors, 20,000 requests per arm read every 100",
        runs, "rolled back", flagged);
    assertTrue(flagged <= 0.01 * runs, flagged + " of " + runs);
  }

  @Test
  void a_student_above_the_ceiling_rolls_back_even_when_the_teacher_is_as_bad() {
    ErrorGuardrail.Result r =
        GUARD.judge(
            new ErrorGuardrail.Counts(9_200, 800, 0), new ErrorGuardrail.Counts(9_200, 800, 0));
    assertEquals(GuardrailVerdict.ROLLBACK, r.verdict());
    assertTrue(r.studentLower() > 0.05, r.toString());
    assertTrue(r.reason().contains("> ceiling 5.00%"), r.reason());
    assertEquals(
        GuardrailVerdict.PASS,
        GUARD
            .judge(
                new ErrorGuardrail.Counts(9_600, 400, 0), new ErrorGuardrail.Counts(9_600, 400, 0))
            .verdict());
  }

  @Test
  void judges_nothing_before_the_minimum_requests_per_arm() {
    ErrorGuardrail.Result r =
        GUARD.judge(new ErrorGuardrail.Counts(500, 499, 0), new ErrorGuardrail.Counts(5_000, 0, 0));
    assertEquals(GuardrailVerdict.PENDING, r.verdict());
    assertEquals("collecting: student 999, teacher 5000 of 1000 model requests each", r.reason());
    assertTrue(Double.isNaN(r.differenceLower()));
  }

  @Test
  void the_bound_is_wider_than_a_fixed_99_percent_interval() {
    // what always-valid costs: at 10,000 per arm and 1% vs 0.5%, wider than ±2.576 standard errors
    ErrorGuardrail.Result r =
        GUARD.judge(
            new ErrorGuardrail.Counts(9_900, 100, 0), new ErrorGuardrail.Counts(9_950, 50, 0));
    double se =
        Math.sqrt(
            101.0 / 10_002 * (1 - 101.0 / 10_002) / 10_000
                + 51.0 / 10_002 * (1 - 51.0 / 10_002) / 10_000);
    assertTrue(r.differenceUpper() - 0.005 > 2.576 * se, r + " se " + se);
    assertEquals(0.005, (r.differenceLower() + r.differenceUpper()) / 2, 1e-12);
  }

  @Test
  void rejects_invalid_settings_with_what_was_expected() {
    assertEquals(
        "minRequests : 0 (expected: > 0)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new ErrorGuardrail(0, 0.01, 0.05, 0.01, 20_000))
            .getMessage());
    assertEquals(
        "counts : 1, -1, 0 (expected: successes, errors, shed >= 0)",
        assertThrows(IllegalArgumentException.class, () -> new ErrorGuardrail.Counts(1, -1, 0))
            .getMessage());
  }
}
