package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * An hour of demo traffic in virtual time, driven straight into an {@link Experiment} (no HTTP, no
 * ORT): about 50 requests a second over 20,000 users, every arm at the same true CTR, model costs
 * lognormal (median 3 ms) with rare spikes and shared noisy seconds, the engine evaluated every
 * simulated second. Many seeds per scenario, so the rates below are measured, not hoped for.
 */
class ExperimentSimulationTest {

  private static final int USERS = 20_000;
  private static final int SECONDS = 3_600;
  private static final double RATE = 50;
  private static final double CTR = 0.05;
  private static final int ROWS = 5;
  private static final double MEDIAN_COST_NANOS = 3e6;
  private static final double COST_SIGMA = 0.3;
  private static final String[] USER_IDS = new String[USERS];

  static {
    for (int u = 0; u < USERS; u++) {
      USER_IDS[u] = "u" + u;
    }
  }

  /** What differs from identical arms: applied to the student at index 1 only. */
  record Scenario(
      double[] weights,
      double costFactor,
      double errorRate,
      double overloadShedRate,
      double droppedExposures,
      boolean auto) {

    static Scenario identical() {
      return new Scenario(new double[] {50, 25, 25}, 1, 0, 0, 0, false);
    }
  }

  /** What one simulated hour showed (seconds; -1 = never). */
  record Run(
      int firstLatencyHold,
      int firstRollback,
      String rollbackReason,
      int firstFrozen,
      boolean anyRollback,
      JsonObject view) {}

  static ExperimentDefinition definition(String name, double[] weights, boolean auto) {
    JsonArray variants = new JsonArray();
    for (int i = 0; i < weights.length; i++) {
      variants.add(
          new JsonObject().put("model", i == 0 ? "ctr" : "ctr-s" + i).put("weight", weights[i]));
    }
    return ExperimentJson.definition(
        new JsonObject()
            .put("name", name)
            .put("teacher", "ctr")
            .put("variants", variants)
            .put("auto", auto));
  }

  static Run simulate(Scenario scenario, long seed) {
    Experiment e =
        Experiment.create(definition("sim-" + seed, scenario.weights(), scenario.auto()), null);
    SplittableRandom random = new SplittableRandom(seed);
    int firstHold = -1;
    int firstRollback = -1;
    int firstFrozen = -1;
    String reason = null;
    for (int second = 0; second < SECONDS; second++) {
      // shared noise: a GC pause or a neighbour's burst slows every arm in the same second
      double shared = random.nextDouble() < 0.02 ? 2.0 : 1.0;
      // overload: one minute in ten the queues are full and requests may be shed
      boolean overload = second % 600 < 60;
      long requests = Math.max(0, Math.round(RATE + Math.sqrt(RATE) * random.nextGaussian()));
      for (long r = 0; r < requests; r++) {
        int u = random.nextInt(USERS);
        String user = USER_IDS[u];
        Experiment.Assignment a = e.assign(user);
        boolean student1 = a.variant() == 1;
        if (student1 && (u % 1000) < scenario.droppedExposures() * 1000) {
          continue; // a logging bug loses these users' requests
        }
        if (student1 && overload && random.nextDouble() < scenario.overloadShedRate()) {
          e.recordServed(a, user, ROWS, RequestOutcome.SHED, 0, 0, null);
          continue;
        }
        if (student1 && random.nextDouble() < scenario.errorRate()) {
          e.recordServed(a, user, ROWS, RequestOutcome.MODEL_ERROR, 0, 0, null);
          continue;
        }
        double cost = MEDIAN_COST_NANOS * Math.exp(COST_SIGMA * random.nextGaussian()) * shared;
        if (random.nextDouble() < 0.001) {
          cost *= 10; // a rare spike
        }
        if (student1) {
          cost *= scenario.costFactor();
        }
        long nanos = (long) cost;
        e.recordServed(a, user, ROWS, RequestOutcome.OK, nanos + 2_000_000, nanos, 1L);
        int clicks = 0;
        for (int row = 0; row < ROWS; row++) {
          if (random.nextDouble() < CTR) {
            clicks++;
          }
        }
        if (clicks > 0) {
          e.recordClicks(a.variant(), user, clicks);
        }
      }
      DecisionEngine.Evaluation ev = e.evaluate(second * 1000L);
      DecisionKind d = ev.decisions()[1];
      if (firstHold < 0
          && d == DecisionKind.HOLD
          && ev.reasons()[1].startsWith("guardrail breach, not yet confirmed: latency")) {
        firstHold = second;
      }
      for (int i = 1; i < ev.decisions().length; i++) {
        if (ev.decisions()[i] == DecisionKind.ROLLBACK && firstRollback < 0) {
          firstRollback = second;
          reason = ev.reasons()[i];
        }
        if (ev.decisions()[i] == DecisionKind.FROZEN && firstFrozen < 0) {
          firstFrozen = second;
        }
      }
      if (e.status() != Experiment.Status.RUNNING) {
        break;
      }
    }
    return new Run(
        firstHold, firstRollback, reason, firstFrozen, firstRollback >= 0, ExperimentJson.view(e));
  }

  @Test
  void identical_arms_for_an_hour_rarely_roll_back_and_srm_stays_within_its_level() {
    int runs = 100;
    int rollbacks = 0;
    int alarms = 0;
    StringBuilder reasons = new StringBuilder();
    for (int seed = 0; seed < runs; seed++) {
      Run run = simulate(Scenario.identical(), 1_000 + seed);
      if (run.anyRollback()) {
        rollbacks++;
        reasons.append(run.rollbackReason()).append('\n');
      }
      if (run.firstFrozen() >= 0) {
        alarms++;
      }
    }
    System.out.printf(
        "identical arms, %d simulated hours: %d false rollbacks, %d SRM alarms%n%s",
        runs, rollbacks, alarms, reasons);
    assertTrue(rollbacks <= runs / 100, rollbacks + " false rollbacks:\n" + reasons);
    // nominal: 0.001 per run under continuous checking; 1 in 100 runs would already be 10x that
    assertTrue(alarms <= 1, alarms + " SRM alarms in " + runs + " runs");
  }

  @Test
  void a_student_whose_model_is_1_5x_slower_is_held_within_minutes_then_rolled_back() {
    int runs = 10;
    for (int seed = 0; seed < runs; seed++) {
      Scenario slow = new Scenario(new double[] {50, 25, 25}, 1.5, 0, 0, 0, true);
      Run run = simulate(slow, 2_000 + seed);
      assertTrue(
          run.firstLatencyHold() >= 0 && run.firstLatencyHold() <= 600,
          "seed " + seed + ": held at " + run.firstLatencyHold() + " s");
      assertTrue(
          run.firstRollback() > run.firstLatencyHold() && run.firstRollback() <= 1_800,
          "seed " + seed + ": rolled back at " + run.firstRollback() + " s");
      assertTrue(run.rollbackReason().startsWith("guardrail: latency"), run.rollbackReason());
      JsonObject student = run.view().getJsonArray("variants").getJsonObject(1);
      assertEquals("rolled_back", student.getString("decision"));
      System.out.printf(
          "1.5x slower student, seed %d: held at %d s, rolled back at %d s%n",
          seed, run.firstLatencyHold(), run.firstRollback());
    }
  }

  @Test
  void a_student_failing_5_percent_is_rolled_back_and_one_that_only_sheds_is_not() {
    int runs = 10;
    for (int seed = 0; seed < runs; seed++) {
      Run failing =
          simulate(new Scenario(new double[] {50, 25, 25}, 1, 0.05, 0, 0, true), 3_000 + seed);
      assertTrue(failing.firstRollback() >= 0, "seed " + seed + ": never rolled back");
      assertTrue(
          failing.rollbackReason().startsWith("guardrail: errors"), failing.rollbackReason());

      Run shedding =
          simulate(new Scenario(new double[] {50, 25, 25}, 1, 0, 0.3, 0, true), 4_000 + seed);
      assertTrue(!shedding.anyRollback(), "seed " + seed + ": " + shedding.rollbackReason());
      JsonObject errors =
          shedding
              .view()
              .getJsonArray("variants")
              .getJsonObject(1)
              .getJsonObject("guardrails")
              .getJsonObject("errors");
      assertTrue(errors.getLong("shed") > 500, errors.encode());
      assertEquals(0, errors.getLong("model_errors"));
      if (seed == 0) {
        System.out.printf(
            "failing student rolled back at %d s; shedding student: %s%n",
            failing.firstRollback(), errors.encode());
      }
    }
  }

  @Test
  void a_48_52_assignment_skew_raises_the_srm_alarm_and_freezes() {
    int runs = 10;
    int alarmed = 0;
    for (int seed = 0; seed < runs; seed++) {
      // 50/50 by design; losing 1 - 48/52 of the student's users leaves a 48/52 split
      Scenario skew = new Scenario(new double[] {50, 50}, 1, 0, 0, 1 - 48.0 / 52, true);
      Run run = simulate(skew, 5_000 + seed);
      if (run.firstFrozen() >= 0) {
        alarmed++;
        assertEquals("running", run.view().getString("status"), "a freeze is not a rollback");
        assertEquals("SRM", run.view().getString("frozen"));
        assertTrue(run.view().getJsonObject("srm").getBoolean("alarm"));
        assertTrue(
            !run.anyRollback() || run.firstRollback() < run.firstFrozen(),
            "frozen: no CTR rollback");
      }
    }
    System.out.printf("48/52 skew: SRM alarm in %d of %d simulated hours%n", alarmed, runs);
    assertTrue(alarmed >= runs * 0.9, "alarm in only " + alarmed + " of " + runs);
  }
}
