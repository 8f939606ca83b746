package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SequentialSrmTest {

  private static final int BATCH = 10;

  @Test
  void bayes_factor_matches_a_direct_computation() {
    // α = (1, 1), x = (3, 1): BF = [Γ(4)Γ(2)/Γ(6)] / [Γ(1)Γ(1)/Γ(2)] / 0.5^4 = (6/120)·16 = 0.8
    SequentialSrm srm = new SequentialSrm(0.001, 2);
    SequentialSrm.Result r = srm.update(new long[] {3, 1}, new double[] {50, 50});
    assertEquals(Math.log(0.8), r.logBayesFactor(), 1e-12);
    assertEquals(1.0, r.pValue(), 0, "a factor below 1 leaves the p-value at 1");
    assertEquals(4, r.observations());
    // α = (0.5, 1.5) on a 25/75 split, x = (2, 0): BF = [Γ(2)/Γ(4)]·[Γ(2.5)/Γ(0.5)] / 0.25^2 = 2
    SequentialSrm unequal = new SequentialSrm(0.001, 2);
    double expected = (1.0 / 6) * (1.5 * 0.5) / 0.0625;
    assertEquals(
        Math.log(expected),
        unequal.update(new long[] {2, 0}, new double[] {1, 3}).logBayesFactor(),
        1e-12);
    assertEquals(1 / expected, unequal.current().pValue(), 1e-12);
  }

  @Test
  void log_gamma_matches_known_values() {
    assertEquals(0, ChiSquare.logGamma(1), 1e-14);
    assertEquals(Math.log(Math.sqrt(Math.PI)), ChiSquare.logGamma(0.5), 1e-14);
    assertEquals(Math.log(362_880), ChiSquare.logGamma(10), 1e-12);
    // Stirling at 1e6: (x − 0.5) ln x − x + 0.5 ln 2π + 1/(12x)
    double x = 1e6;
    assertEquals(
        (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x),
        ChiSquare.logGamma(x),
        1e-6);
  }

  @Test
  void continuous_monitoring_of_a_fair_split_keeps_false_alarms_below_the_level() {
    int runs = 400;
    int users = 20_000;
    int alarms = 0;
    int alarmsAt5Percent = 0;
    int naivePeekingAt5Percent = 0;
    for (int seed = 0; seed < runs; seed++) {
      SplittableRandom rnd = new SplittableRandom(seed);
      SequentialSrm srm = new SequentialSrm();
      long[] counts = new long[2];
      boolean naive = false;
      for (int u = 1; u <= users; u++) {
        counts[rnd.nextDouble() < 0.5 ? 0 : 1]++;
        if (u % BATCH == 0) {
          srm.update(counts, new double[] {50, 50});
          double d = counts[0] - u / 2.0;
          naive |= 4 * d * d / u > 3.841_458_820_694_124; // chi-square, 1 df, at 0.05
        }
      }
      SequentialSrm.Result r = srm.current();
      alarms += r.alarm() ? 1 : 0;
      alarmsAt5Percent += r.pValue() < 0.05 ? 1 : 0;
      naivePeekingAt5Percent += naive ? 1 : 0;
    }
    report(
        "fair 50/50, checked every " + BATCH + " of " + users + " users",
        runs,
        "p<0.001",
        alarms,
        "p<0.05",
        alarmsAt5Percent,
        "naive chi-square peeking <0.05",
        naivePeekingAt5Percent);
    assertTrue(alarms <= 0.005 * runs, alarms + " false alarms in " + runs + " runs");
    assertTrue(alarmsAt5Percent <= 0.05 * runs, alarmsAt5Percent + " runs below 0.05 in " + runs);
    // what the sequential test protects against: the fixed-sample test read after every batch
    assertTrue(
        naivePeekingAt5Percent > 0.2 * runs, naivePeekingAt5Percent + " naive alarms in " + runs);
  }

  @Test
  void a_48_52_skew_on_a_50_50_design_fires_by_40000_users() {
    int runs = 200;
    int fired = 0;
    long sumFirstAlarm = 0;
    for (int seed = 0; seed < runs; seed++) {
      long first =
          firstAlarm(new SplittableRandom(1_000 + seed), 0.48, new double[] {50, 50}, 40_000);
      if (first > 0) {
        fired++;
        sumFirstAlarm += first;
      }
    }
    report(
        "48/52 on 50/50, by 40,000 users (mean first alarm at "
            + (fired == 0 ? 0 : sumFirstAlarm / fired)
            + ")",
        runs,
        "fired",
        fired);
    assertTrue(fired >= 0.95 * runs, fired + " of " + runs + " runs fired");
  }

  @Test
  void an_unequal_10_90_design_stays_quiet_when_fair_and_fires_on_8_92() {
    int runs = 200;
    int falseAlarms = 0;
    int fired = 0;
    for (int seed = 0; seed < runs; seed++) {
      falseAlarms +=
          firstAlarm(new SplittableRandom(2_000 + seed), 0.10, new double[] {10, 90}, 20_000) > 0
              ? 1
              : 0;
      fired +=
          firstAlarm(new SplittableRandom(3_000 + seed), 0.08, new double[] {10, 90}, 20_000) > 0
              ? 1
              : 0;
    }
    report(
        "10/90 design, 20,000 users",
        runs,
        "false alarms (fair)",
        falseAlarms,
        "fired on 8/92",
        fired);
    assertTrue(falseAlarms <= 0.005 * runs, falseAlarms + " false alarms in " + runs);
    assertTrue(fired >= 0.95 * runs, fired + " of " + runs + " runs fired");
  }

  @Test
  void an_alarm_survives_a_restart_and_a_restore() {
    SequentialSrm srm = new SequentialSrm();
    SequentialSrm.Result skewed = srm.update(new long[] {4_000, 6_000}, new double[] {1, 1});
    assertTrue(skewed.alarm());
    srm.restart();
    SequentialSrm.Result fair = srm.update(new long[] {250, 750}, new double[] {1, 3});
    assertTrue(fair.alarm(), "a restart carries the factor over");
    assertEquals(skewed.pValue(), fair.pValue(), 0);
    assertEquals(1000, fair.observations());

    SequentialSrm resumed = SequentialSrm.restore(0.001, 100, srm.state());
    assertEquals(srm.state(), resumed.state());
    assertEquals(srm.current(), resumed.current());
    assertEquals(
        srm.update(new long[] {600, 1_900}, new double[] {1, 3}),
        resumed.update(new long[] {600, 1_900}, new double[] {1, 3}));
  }

  @Test
  void a_fair_segment_after_a_restart_counts_the_evidence_of_both() {
    SequentialSrm one = new SequentialSrm();
    one.update(new long[] {450, 550}, new double[] {1, 1});
    double first = one.current().logBayesFactor();
    one.restart();
    SequentialSrm.Result r = one.update(new long[] {460, 540}, new double[] {1, 1});
    double second =
        new SequentialSrm().update(new long[] {460, 540}, new double[] {1, 1}).logBayesFactor();
    assertEquals(first + second, r.logBayesFactor(), 1e-9);
  }

  @Test
  void arms_without_weight_are_left_out() {
    SequentialSrm srm = new SequentialSrm();
    SequentialSrm.Result r = srm.update(new long[] {5_000, 5_000, 777}, new double[] {50, 50, 0});
    assertFalse(r.alarm());
    assertEquals(10_000, r.observations());
    assertEquals(
        1.0,
        new SequentialSrm().update(new long[] {10, 99}, new double[] {1, 0}).pValue(),
        0,
        "one weighted arm: nothing to test");
  }

  @Test
  void rejects_inconsistent_input_with_what_was_expected() {
    SequentialSrm srm = new SequentialSrm();
    assertEquals(
        "weights : 3 arms (expected: 2, one per count)",
        assertThrows(
                IllegalArgumentException.class,
                () -> srm.update(new long[] {1, 2}, new double[] {1, 1, 1}))
            .getMessage());
    assertEquals(
        "counts[1] : -2 (expected: >= 0)",
        assertThrows(
                IllegalArgumentException.class,
                () -> srm.update(new long[] {1, -2}, new double[] {1, 1}))
            .getMessage());
    srm.update(new long[] {10, 10}, new double[] {1, 1});
    assertEquals(
        "counts : 15 in total (expected: >= 20 as counts only grow; call restart() when they start over)",
        assertThrows(
                IllegalArgumentException.class,
                () -> srm.update(new long[] {5, 10}, new double[] {1, 1}))
            .getMessage());
    assertEquals(
        "alpha : 0.0 (expected: 0 < alpha < 1)",
        assertThrows(IllegalArgumentException.class, () -> new SequentialSrm(0, 100)).getMessage());
  }

  /** The number of users at the first alarm (checked every batch), 0 when none by {@code users}. */
  private static long firstAlarm(
      SplittableRandom rnd, double firstArmShare, double[] weights, int users) {
    SequentialSrm srm = new SequentialSrm();
    long[] counts = new long[2];
    for (int u = 1; u <= users; u++) {
      counts[rnd.nextDouble() < firstArmShare ? 0 : 1]++;
      if (u % BATCH == 0 && srm.update(counts, weights).alarm()) {
        return u;
      }
    }
    return 0;
  }

  static void report(String what, int runs, Object... labelsAndCounts) {
    StringBuilder b =
        new StringBuilder("[rates] ").append(what).append(", ").append(runs).append(" runs:");
    for (int i = 0; i < labelsAndCounts.length; i += 2) {
      int k = (Integer) labelsAndCounts[i + 1];
      b.append(' ')
          .append(labelsAndCounts[i])
          .append(' ')
          .append(k)
          .append(" (")
          .append(String.format(java.util.Locale.ROOT, "%.2f%%", 100.0 * k / runs))
          .append(')');
    }
    System.out.println(b);
  }
}
