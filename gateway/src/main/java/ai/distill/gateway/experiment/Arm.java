package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.ErrorGuardrail;
import ai.distill.gateway.experiment.stats.LatencyGuardrail;
import ai.distill.gateway.experiment.stats.QuantileBounds;
import ai.distill.gateway.experiment.stats.SequentialSrm;
import io.vertx.core.json.JsonArray;

/**
 * One variant's counters; guarded by the experiment's monitor except where volatile or
 * self-synchronized.
 */
final class Arm {
  final UserLedger ledger;

  /** End-to-end latency, shown in the API and never judged. */
  final ServingWindow window;

  /** Model cost (queue wait + batch compute), shown in the API. */
  final ServingWindow cost;

  /** A student's latency guardrail against the teacher; null for the teacher. */
  LatencyGuardrail latency;

  long successes;
  long modelErrors;
  long shed;
  long clientErrors;

  /** Requests of new users turned away from the ledger because a ledger was full. */
  long cappedRequests;

  final ShadowAgreement shadow = new ShadowAgreement();
  long srmExposures;
  long anonymousRequests;
  long anonymousImpressions;
  long anonymousClicks;
  volatile Long servedVersion;
  DecisionKind lastDecision = DecisionKind.HOLD;

  Arm(int maxUsers, long windowNanos, long now) {
    ledger = new UserLedger(maxUsers);
    window = new ServingWindow(windowNanos, now);
    cost = new ServingWindow(windowNanos, now);
  }

  ErrorGuardrail.Counts outcomes() {
    return new ErrorGuardrail.Counts(successes, modelErrors, shed);
  }

  /** The latency guardrail a definition asks for (a too-small window is raised to the minimum). */
  static LatencyGuardrail.Config latencyConfig(ExperimentDefinition d) {
    LatencyGuardrail.Config defaults = LatencyGuardrail.Config.DEFAULT;
    long needed = QuantileBounds.minSamplesForUpper(defaults.quantile(), defaults.z());
    return new LatencyGuardrail.Config(
        (int) Math.min(Integer.MAX_VALUE, Math.max(d.minWindowRequests(), needed)),
        defaults.quantile(),
        defaults.z(),
        d.latencyRatio(),
        Math.round(d.latencyTolerance() * 1e9),
        Math.round(d.latencySloSeconds() * 1e9),
        d.latencyBreaches());
  }

  /** What the decision engine sees of each arm. */
  static DecisionEngine.ArmFigures[] figures(
      ExperimentDefinition definition, double[] weights, Arm[] arms) {
    DecisionEngine.ArmFigures[] figures = new DecisionEngine.ArmFigures[arms.length];
    for (int i = 0; i < arms.length; i++) {
      Arm a = arms[i];
      figures[i] =
          new DecisionEngine.ArmFigures(
              definition.variants().get(i).model(),
              weights[i],
              a.ledger.users(),
              a.ledger.impressions(),
              a.ledger.clicks(),
              a.ledger.ratio(),
              a.ledger.ratioVariance(),
              a.srmExposures,
              a.latency == null ? null : a.latency.status(),
              a.outcomes());
    }
    return figures;
  }

  /** Each arm's SRM exposures, as JSON. */
  static JsonArray srmCounts(Arm[] arms) {
    JsonArray a = new JsonArray();
    for (Arm arm : arms) {
      a.add(arm.srmExposures);
    }
    return a;
  }

  /** Reads the sequential SRM test on the exposures counted since the last reweight. */
  static SequentialSrm.Result readSrm(SequentialSrm srm, Arm[] arms, double[] weights) {
    long[] counts = new long[arms.length];
    for (int i = 0; i < arms.length; i++) {
      counts[i] = arms[i].srmExposures;
    }
    try {
      return srm.update(counts, weights);
    } catch (IllegalArgumentException inconsistent) {
      srm.restart(); // restored counts behind the restored test: start a segment, keep evidence
      return srm.update(counts, weights);
    }
  }
}
