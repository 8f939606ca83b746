package ai.distill.gateway.demo;

import ai.distill.gateway.experiment.ExperimentDefinition;
import ai.distill.gateway.experiment.ExperimentJson;
import ai.distill.gateway.loop.RecalibrationPolicy;
import ai.distill.optimizer.world.DemoModels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The demo's experiment: the teacher keeps half of the users, its students share the rest. */
public final class DemoExperiment {

  private DemoExperiment() {}

  /**
   * An automatic experiment over the demo's models: 10% shadow scoring, 5% of requests captured as
   * rows for recalibration jobs, and a student must keep 90% of the teacher's CTR (margin 0.90,
   * confidence sequence tuned for 2,000 users) so that decisions come within minutes at the demo's
   * traffic; the production defaults are 0.99 and 10,000.
   */
  public static ExperimentDefinition definition(String name, DemoModels.Result models) {
    List<String> students = new ArrayList<>();
    if (models.student() != null) {
      students.add(models.student().name());
    }
    if (models.int8Student() != null) {
      students.add(models.int8Student().name());
    }
    JsonArray variants =
        new JsonArray()
            .add(new JsonObject().put("model", models.teacher().name()).put("weight", 50));
    for (String student : students) {
      variants.add(new JsonObject().put("model", student).put("weight", 50.0 / students.size()));
    }
    return ExperimentJson.definition(
        new JsonObject()
            .put("name", name)
            .put("teacher", models.teacher().name())
            .put("variants", variants)
            .put("margin", 0.90)
            .put("planned_users", 2_000)
            .put("shadow_rate", 0.1)
            .put("capture_rate", 0.05)
            .put("auto", true));
  }

  /**
   * The demo's recalibration policy: watch the INT8 student's inputs in the experiment's captured
   * traffic every 10 s; on drift (PSI above 0.2) recalibrate it from 2,000 rows of the new
   * distribution and canary the result in the experiment at 50% (a large share so that the demo
   * reaches a decision in minutes; 5% is the production default).
   */
  public static RecalibrationPolicy policy(String experiment, String int8Model) {
    return RecalibrationPolicy.fromJson(
        new JsonObject()
            .put("model", int8Model)
            .put("rows", "capture:" + experiment)
            .put("min_rows", 2_000)
            .put("psi_threshold", 0.2)
            .put("check_seconds", 10)
            .put("cooldown_seconds", 600)
            .put("canary", new JsonObject().put("experiment", experiment).put("weight", 50)));
  }
}
