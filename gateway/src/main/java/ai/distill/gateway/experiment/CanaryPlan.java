package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * How a canary enters an experiment: the definition of the experiment's next generation. A running
 * experiment keeps its active arms (their weights scaled to make room, an older version of the
 * canary's own model replaced by the canary); an ended one, or none, becomes the teacher and the
 * canary alone. Settings (margin, guardrails, capture...) carry over; a new experiment takes the
 * defaults with {@code captureRate}. Stateless.
 */
final class CanaryPlan {

  private CanaryPlan() {}

  /**
   * @param current the experiment now under that name, or null
   * @param name the experiment's name
   * @param teacher the teacher when there is no experiment yet (the job's source)
   * @param model the canary's model
   * @param version the canary's version (pinned)
   * @param weight the canary's share of traffic, in percent (0, 100)
   */
  static ExperimentDefinition next(
      Experiment current, String name, String teacher, String model, long version, double weight) {
    if (!(weight > 0 && weight < 100)) {
      throw new IllegalArgumentException(
          "canary.weight: " + weight + " (expected: a share of traffic in (0, 100), e.g. 5)");
    }
    JsonObject body;
    JsonArray variants = new JsonArray();
    if (current == null) {
      body =
          new JsonObject()
              .put("name", name)
              .put("teacher", teacher)
              .put("auto", true)
              .put("capture_rate", 0.05);
      variants.add(new JsonObject().put("model", teacher).put("weight", 100 - weight));
    } else {
      body = ExperimentJson.toJson(current.definition());
      // a new generation draws its users' buckets afresh
      body.put("salt", name + "@" + System.currentTimeMillis());
      ExperimentDefinition d = current.definition();
      boolean running = current.status() == Experiment.Status.RUNNING;
      double kept = 0;
      for (int i = 0; i < d.variants().size(); i++) {
        if (keeps(current, running, i, model)) {
          kept += current.weight(i);
        }
      }
      for (int i = 0; i < d.variants().size(); i++) {
        if (!keeps(current, running, i, model)) {
          continue;
        }
        ExperimentDefinition.Variant v = d.variants().get(i);
        double share = kept > 0 ? current.weight(i) / kept * (100 - weight) : 100 - weight;
        JsonObject o = new JsonObject().put("model", v.model()).put("weight", share);
        if (v.version() != null) {
          o.put("version", String.valueOf(v.version()));
        }
        variants.add(o);
      }
    }
    variants.add(
        new JsonObject()
            .put("model", model)
            .put("version", String.valueOf(version))
            .put("weight", weight));
    return ExperimentJson.definition(body.put("variants", variants));
  }

  // The teacher always stays; a student stays while it serves in a running experiment and is not
  // an older version of the canary's model.
  private static boolean keeps(Experiment e, boolean running, int i, String canaryModel) {
    if (i == e.teacherIndex()) {
      return !e.definition().teacher().equals(canaryModel);
    }
    ExperimentDefinition.Variant v = e.definition().variants().get(i);
    return running && e.weight(i) > 0 && !v.model().equals(canaryModel);
  }
}
