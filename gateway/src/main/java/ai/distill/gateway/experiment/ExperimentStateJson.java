package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.SequentialSrm;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The persisted form of an experiment's live state (status, history, weights, counters and the
 * decision state, everything but the per-user ledgers); {@link ExperimentJson} holds the API view
 * and the definitions. Stateless.
 */
final class ExperimentStateJson {

  private ExperimentStateJson() {}

  /** Everything but the per-user ledgers, as {@link ExperimentRepository} writes it. */
  static JsonObject state(Experiment e) {
    synchronized (e) {
      Arm[] arms = e.arms();
      JsonArray arr = new JsonArray();
      for (int i = 0; i < arms.length; i++) {
        Arm a = arms[i];
        JsonArray ranges = new JsonArray();
        for (int[] r : e.assigner().ranges(i)) {
          ranges.add(new JsonArray().add(r[0]).add(r[1]));
        }
        JsonArray shadow = new JsonArray();
        for (double d : a.shadow.sums()) {
          shadow.add(d);
        }
        arr.add(
            new JsonObject()
                .put("weight", e.weight(i))
                .put("slots", ranges)
                .put("srm_exposures", a.srmExposures)
                .put("anonymous_requests", a.anonymousRequests)
                .put("anonymous_impressions", a.anonymousImpressions)
                .put("anonymous_clicks", a.anonymousClicks)
                .put("served_version", a.servedVersion)
                .put("last_decision", a.lastDecision.label())
                .put("shadow", shadow));
      }
      return new JsonObject()
          .put("format", 1)
          .put("definition", ExperimentJson.toJson(e.definition()))
          .put("status", e.status().name())
          .put("created", e.createdMillis())
          .put("arms", arr)
          .put("history", ExperimentJson.history(e))
          .put("decision_state", decisionState(e));
    }
  }

  // ---- decision state (SRM evidence, freeze, model outcomes): added by the decision work -------
  // A separate block so that the persistence side can move it without reading the rest. Latency
  // guardrail windows are not persisted: after a restart they start empty (a confirmed rollback
  // was already applied and is in the history).

  private static JsonObject decisionState(Experiment e) {
    SequentialSrm.State srm = e.srmState();
    JsonArray outcomes = new JsonArray();
    for (Arm a : e.arms()) {
      outcomes.add(
          new JsonArray().add(a.successes).add(a.modelErrors).add(a.shed).add(a.clientErrors));
    }
    return new JsonObject()
        .put(
            "srm",
            new JsonArray()
                .add(srm.maxLogBayesFactor())
                .add(srm.carriedLogBayesFactor())
                .add(srm.segmentLogBayesFactor())
                .add(srm.segmentObservations()))
        .put("frozen_logged", e.frozen())
        .put("outcomes", outcomes);
  }

  private static void restoreDecisionState(Experiment e, JsonObject o) {
    if (o == null) {
      return; // written before decision state was persisted: start the tests afresh
    }
    JsonArray srm = o.getJsonArray("srm");
    if (srm != null && srm.size() == 4) {
      e.restoreDecisionState(
          new SequentialSrm.State(
              srm.getDouble(0), srm.getDouble(1), srm.getDouble(2), srm.getLong(3)),
          o.getBoolean("frozen_logged", false));
    }
    JsonArray outcomes = o.getJsonArray("outcomes", new JsonArray());
    Arm[] arms = e.arms();
    for (int i = 0; i < Math.min(arms.length, outcomes.size()); i++) {
      JsonArray c = outcomes.getJsonArray(i);
      arms[i].successes = c.getLong(0);
      arms[i].modelErrors = c.getLong(1);
      arms[i].shed = c.getLong(2);
      arms[i].clientErrors = c.getLong(3);
    }
  }

  // ---- end of decision state ---------------------------------------------------------------

  /** Rebuilds an experiment from {@link #state}; its user ledgers start empty. */
  static Experiment restore(JsonObject state, ExperimentMetrics metrics, int maxUsers) {
    ExperimentDefinition def = ExperimentJson.definition(state.getJsonObject("definition"));
    JsonArray arr = state.getJsonArray("arms");
    List<List<int[]>> ranges = new ArrayList<>();
    double[] w = new double[arr.size()];
    for (int i = 0; i < arr.size(); i++) {
      JsonObject a = arr.getJsonObject(i);
      w[i] = a.getDouble("weight");
      List<int[]> rs = new ArrayList<>();
      for (Object r : a.getJsonArray("slots")) {
        JsonArray pair = (JsonArray) r;
        rs.add(new int[] {pair.getInteger(0), pair.getInteger(1)});
      }
      ranges.add(rs);
    }
    Experiment e =
        new Experiment(
            def,
            StickyAssigner.restore(def.name(), def.salt(), ranges),
            w,
            state.getLong("created", System.currentTimeMillis()),
            metrics,
            maxUsers);
    List<Decision> history = new ArrayList<>();
    for (Object d : state.getJsonArray("history", new JsonArray())) {
      history.add(ExperimentJson.decision((JsonObject) d));
    }
    e.restore(Experiment.Status.valueOf(state.getString("status", "RUNNING")), history);
    restoreDecisionState(e, state.getJsonObject("decision_state"));
    Arm[] arms = e.arms();
    for (int i = 0; i < arr.size(); i++) {
      JsonObject a = arr.getJsonObject(i);
      Arm arm = arms[i];
      arm.srmExposures = a.getLong("srm_exposures", 0L);
      arm.anonymousRequests = a.getLong("anonymous_requests", 0L);
      arm.anonymousImpressions = a.getLong("anonymous_impressions", 0L);
      arm.anonymousClicks = a.getLong("anonymous_clicks", 0L);
      arm.servedVersion = a.getLong("served_version");
      arm.lastDecision =
          DecisionKind.parse(a.getString("last_decision", DecisionKind.HOLD.label()));
      JsonArray s = a.getJsonArray("shadow");
      if (s != null && s.size() == 6) {
        arm.shadow.restore(
            s.getDouble(0).longValue(),
            s.getDouble(1),
            s.getDouble(2),
            s.getDouble(3),
            s.getDouble(4).longValue(),
            s.getDouble(5).longValue());
      }
    }
    return e;
  }

  // ---- field readers
  // -----------------------------------------------------------------------------
}
