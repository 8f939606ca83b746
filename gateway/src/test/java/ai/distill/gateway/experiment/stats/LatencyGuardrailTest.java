package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LatencyGuardrailTest {

  /**
   * A model's own cost per request: lognormal around {@code median} with shape {@code sigma}, and
   * with probability {@code spike} a 5–20 ms stall (GC, a noisy neighbour), all times {@code
   * scale}.
   */
  private record CostModel(double median, double sigma, double spike, double scale) {

    long next(SplittableRandom rnd) {
      double c =
          rnd.nextDouble() < spike
              ? 5e6 + 15e6 * rnd.nextDouble()
              : median * Math.exp(sigma * rnd.nextGaussian());
      return (long) (c * scale);
    }

    CostModel times(double factor) {
      return new CostModel(median, sigma, spike, scale * factor);
    }
  }

  /** Heavy-tailed: median 2 ms, σ = 0.35, 0.3% stalls of 5–20 ms (the stalls sit above the p99). */
  private static final CostModel HEAVY = new CostModel(2e6, 0.35, 0.003, 1);

  /**
   * The same family with a tighter tail, where a 2,000-request window has the power to see 1.5×.
   */
  private static final CostModel TIGHTER = new CostModel(4e6, 0.25, 0.001, 1);

  /**
   * Virtual time: {@code seconds} of traffic, each second 25–35 requests per arm (about 30/s),
   * interleaved. Returns the status at the end of every second in which a window closed.
   */
  private static List<LatencyGuardrail.Status> run(
      LatencyGuardrail g, SplittableRandom rnd, CostModel teacher, CostModel student, int seconds) {
    List<LatencyGuardrail.Status> closed = new ArrayList<>();
    long window = 0;
    for (int second = 0; second < seconds; second++) {
      int t = 25 + rnd.nextInt(11);
      int s = 25 + rnd.nextInt(11);
      for (int i = 0; i < Math.max(t, s); i++) {
        if (i < t) {
          g.recordTeacher(teacher.next(rnd));
        }
        if (i < s) {
          g.recordStudent(student.next(rnd));
        }
      }
      LatencyGuardrail.Status now = g.status(); // at most one window closes per second (2,000 > 35)
      if (now.window() != window) {
        window = now.window();
        closed.add(now);
      }
    }
    return closed;
  }

  @Test
  void identical_heavy_tailed_arms_for_an_hour_almost_never_roll_back() {
    int runs = 200;
    int rollbacks = 0;
    int runsWithHold = 0;
    int holdWindows = 0;
    int windows = 0;
    for (int seed = 0; seed < runs; seed++) {
      List<LatencyGuardrail.Status> closed =
          run(new LatencyGuardrail(), new SplittableRandom(seed), HEAVY, HEAVY, 3_600);
      windows += closed.size();
      int holds = (int) closed.stream().filter(s -> s.verdict() == GuardrailVerdict.HOLD).count();
      holdWindows += holds;
      runsWithHold += holds > 0 ? 1 : 0;
      rollbacks += closed.get(closed.size() - 1).verdict() == GuardrailVerdict.ROLLBACK ? 1 : 0;
    }
    SequentialSrmTest.report(
        "identical heavy-tailed arms, 1 h at ~30 req/s per arm ("
            + windows / runs
            + " windows per run, "
            + holdWindows
            + " holding windows in all)",
        runs,
        "runs rolled back",
        rollbacks,
        "runs with a hold",
        runsWithHold);
    assertTrue(
        windows / runs >= 50,
        "about 108,000 requests per arm make 54 windows of 2,000: " + windows / runs);
    assertTrue(rollbacks <= 0.01 * runs, rollbacks + " of " + runs + " runs rolled back");
    assertTrue(
        runsWithHold <= 0.05 * runs, runsWithHold + " of " + runs + " runs held at least once");
  }

  @Test
  void a_student_costing_half_as_much_again_holds_at_once_and_rolls_back_on_the_third_window() {
    CostModel light = new CostModel(3e6, 0.1, 0, 1);
    for (int seed = 0; seed < 20; seed++) {
      LatencyGuardrail g = new LatencyGuardrail();
      assertEquals(GuardrailVerdict.PENDING, g.status().verdict());
      List<LatencyGuardrail.Status> closed =
          run(g, new SplittableRandom(seed), light, light.times(1.5), 220);
      assertEquals(
          List.of(GuardrailVerdict.HOLD, GuardrailVerdict.HOLD, GuardrailVerdict.ROLLBACK),
          closed.subList(0, 3).stream().map(LatencyGuardrail.Status::verdict).toList(),
          "seed " + seed);
      assertEquals(
          List.of(1, 2, 3),
          closed.subList(0, 3).stream().map(LatencyGuardrail.Status::consecutiveBreaches).toList());
      LatencyGuardrail.Status third = closed.get(2);
      assertTrue(
          third.student().lowerSeconds() > 1.1 * third.teacher().upperSeconds() + 0.0005,
          third.toString());
      assertTrue(third.reason().contains("(3 of 3 consecutive windows)"), third.reason());
      assertTrue(third.student().requests() >= 2_000 && third.teacher().requests() >= 2_000);
    }
  }

  @Test
  void a_student_costing_half_as_much_again_is_caught_on_a_realistic_tail() {
    int runs = 100;
    int heldFirst = 0;
    int rolledBackThird = 0;
    for (int seed = 0; seed < runs; seed++) {
      List<LatencyGuardrail.Status> closed =
          run(
              new LatencyGuardrail(),
              new SplittableRandom(500 + seed),
              TIGHTER,
              TIGHTER.times(1.5),
              220);
      heldFirst += closed.get(0).verdict() == GuardrailVerdict.HOLD ? 1 : 0;
      rolledBackThird += closed.get(2).verdict() == GuardrailVerdict.ROLLBACK ? 1 : 0;
    }
    SequentialSrmTest.report(
        "student 1.5x teacher (median 4 ms, sigma 0.25, 0.1% stalls)",
        runs, "held by window 1", heldFirst, "rolled back by window 3", rolledBackThird);
    assertTrue(heldFirst >= 0.9 * runs, heldFirst + " of " + runs);
    assertTrue(rolledBackThird >= 0.9 * runs, rolledBackThird + " of " + runs);
  }

  @Test
  void a_clean_window_resets_the_count_of_consecutive_breaches() {
    CostModel light = new CostModel(3e6, 0.1, 0, 1);
    SplittableRandom rnd = new SplittableRandom(1);
    LatencyGuardrail g = new LatencyGuardrail();
    feed(g, rnd, light, light.times(1.5), 2);
    assertEquals(2, g.status().consecutiveBreaches());
    assertEquals(GuardrailVerdict.HOLD, g.status().verdict());
    feed(g, rnd, light, light, 1);
    assertEquals(GuardrailVerdict.PASS, g.status().verdict());
    assertEquals(0, g.status().consecutiveBreaches());
    assertFalse(g.status().breach());
    feed(g, rnd, light, light.times(1.5), 1);
    assertEquals(GuardrailVerdict.HOLD, g.status().verdict());
    assertEquals(1, g.status().consecutiveBreaches());
    assertEquals(4, g.status().window());
  }

  @Test
  void a_student_above_the_absolute_slo_rolls_back_on_its_first_window_and_stays_rolled_back() {
    SplittableRandom rnd = new SplittableRandom(3);
    CostModel slow = new CostModel(45e6, 0.1, 0, 1);
    // the teacher is as slow, so only the SLO (p99 lower bound > 50 ms) can fire
    LatencyGuardrail g = new LatencyGuardrail();
    feed(g, rnd, slow, slow, 1);
    LatencyGuardrail.Status s = g.status();
    assertEquals(GuardrailVerdict.ROLLBACK, s.verdict());
    assertEquals(1, s.window());
    assertTrue(s.student().lowerSeconds() > 0.050, s.toString());
    assertTrue(
        s.reason().startsWith("window 1: student p99 lower bound ")
            && s.reason().endsWith(" > SLO 50.000 ms"),
        s.reason());
    feed(g, rnd, slow, new CostModel(3e6, 0.1, 0, 1), 1);
    assertEquals(GuardrailVerdict.ROLLBACK, g.status().verdict(), "a recommended rollback stays");
    assertEquals(s.reason(), g.status().reason());
    assertEquals(2, g.status().window());
  }

  @Test
  void windows_wait_for_every_arm_and_report_what_they_are_collecting() {
    LatencyGuardrail g = new LatencyGuardrail();
    for (int i = 0; i < 5_000; i++) {
      g.recordStudent(2_000_000);
    }
    for (int i = 0; i < 1_999; i++) {
      g.recordTeacher(2_000_000);
    }
    LatencyGuardrail.Status s = g.status();
    assertEquals(GuardrailVerdict.PENDING, s.verdict());
    assertEquals(0, s.window());
    assertEquals(
        "collecting window 1: student 5000, teacher 1999 of 2000 requests each", s.reason());
    g.recordTeacher(2_000_000);
    s = g.status();
    assertEquals(1, s.window());
    assertEquals(GuardrailVerdict.PASS, s.verdict());
    assertEquals(5_000, s.student().requests());
    assertEquals(2_000, s.teacher().requests());
    assertEquals(0, s.openStudent());
    assertEquals(0.002, s.student().estimateSeconds(), 0.002 * 0.01);
  }

  @Test
  void memory_per_arm_is_one_small_histogram_and_extreme_costs_are_clamped() {
    assertTrue(
        LatencyGuardrail.newHistogram().getEstimatedFootprintInBytes() < 32 * 1024,
        "bytes: " + LatencyGuardrail.newHistogram().getEstimatedFootprintInBytes());
    LatencyGuardrail g = new LatencyGuardrail();
    g.recordStudent(Long.MAX_VALUE);
    g.recordTeacher(0);
    assertEquals(
        "costNanos : -1 (expected: >= 0)",
        assertThrows(IllegalArgumentException.class, () -> g.recordTeacher(-1)).getMessage());
  }

  @Test
  void a_window_too_small_to_bound_the_teacher_is_refused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new LatencyGuardrail.Config(500, 0.99, 2.576, 1.1, 500_000, 0, 3));
    assertEquals(
        "minRequests : 500 (expected: >= "
            + QuantileBounds.minSamplesForUpper(0.99, 2.576)
            + ", fewer cannot bound the teacher's p99.0 from above at z = 2.576)",
        e.getMessage());
  }

  private static void feed(
      LatencyGuardrail g, SplittableRandom rnd, CostModel teacher, CostModel student, int windows) {
    long target = g.status().window() + windows;
    while (g.status().window() < target) {
      g.recordTeacher(teacher.next(rnd));
      g.recordStudent(student.next(rnd));
    }
  }
}
