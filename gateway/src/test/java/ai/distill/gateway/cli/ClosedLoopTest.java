package ai.distill.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.demo.TrafficSimulator;
import ai.distill.gateway.demo.WorldCandidates;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.gateway.loop.RecalibrationPolicy;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.world.CtrWorld;
import ai.distill.optimizer.world.DemoModels;
import ai.distill.store.ModelStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The closed loop end to end on a small world, with fast settings: traffic is captured, the
 * calibrated population shows no drift, a shifted one does, a recalibration job quantizes the
 * student on rows of the new distribution and publishes a new INT8 version, the version is canaried
 * in the experiment, and the decision engine judges it (here: users who do not click on it, so it
 * is rolled back).
 */
class ClosedLoopTest {

  private static final String INT8 = "ctr-student-int8";

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();
  private String base;
  private String token;

  private JsonObject get(String path, boolean admin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    if (admin) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return new JsonObject(r.body());
  }

  private JsonObject post(String path, JsonObject body) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return new JsonObject(r.body());
  }

  private static void await(String what, long seconds, BooleanSupplier done) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private JsonObject policy() throws Exception {
    return get("/admin/v1/policies", true).getJsonArray("policies").getJsonObject(0);
  }

  private JsonArray jobs() throws Exception {
    return get("/admin/v1/jobs", true).getJsonArray("jobs");
  }

  @Test
  void capture_drift_job_published_version_canary_decision() throws Exception {
    ModelStore store = ModelStore.open(dir);
    DemoModels.Result models = DemoModels.ensure(store, DemoModels.Options.small(), line -> {});
    // The small world's INT8 student may be refused as slower than FP32 on a busy machine: the
    // loop needs one, so quantize it without the speed check then.
    if (models.int8Student() == null) {
      CtrWorld.demo().write(dir.resolve("calibration.jsonl"), 2_000, 3);
      int status =
          new picocli.CommandLine(new Main())
              .execute(
                  "quantize",
                  "--store",
                  dir.toString(),
                  "--model",
                  models.student().id(),
                  "--data",
                  dir.resolve("calibration.jsonl").toString(),
                  "--name",
                  INT8,
                  "--no-speed-check");
      assertEquals(0, status);
    }
    assertEquals(1, store.versions(INT8).size());

    ServeCommand.Running running =
        ServeCommand.Running.start(
            TestGateways.config(dir)
                .jobs(JobsConfig.fromJson(new JsonObject().put("runner", "in-process")))
                .build());
    try {
      base = "http://127.0.0.1:" + running.gateway().port();
      token = running.gateway().adminToken();
      running
          .experiments()
          .service()
          .create(
              ai.distill.gateway.experiment.ExperimentJson.definition(
                  new JsonObject()
                      .put("name", "ab")
                      .put("teacher", "ctr")
                      .put(
                          "variants",
                          new JsonArray()
                              .add(new JsonObject().put("model", "ctr").put("weight", 50))
                              .add(new JsonObject().put("model", INT8).put("weight", 50)))
                      .put("capture_rate", 1.0)
                      .put("shadow_rate", 0.0)
                      .put("min_exposure", 20)
                      .put("auto", true)));
      running
          .loop()
          .service()
          .put(
              RecalibrationPolicy.fromJson(
                  new JsonObject()
                      .put("model", INT8)
                      .put("rows", "capture:ab")
                      .put("min_rows", 2_000)
                      .put("window_rows", 2_000)
                      .put("psi_threshold", 0.2)
                      .put("check_seconds", 1)
                      .put("cooldown_seconds", 3_600)
                      .put(
                          "options",
                          new JsonObject().put("max-auc-drop", 0.05).put("max-mean-shift", 0.2))
                      .put("canary", new JsonObject().put("experiment", "ab").put("weight", 50))));

      // 1. The calibrated population: captured, measured, no drift, no job.
      WorldCandidates world = new WorldCandidates(CtrWorld.demo(), 8);
      TrafficSimulator traffic =
          new TrafficSimulator(
              running.vertx(),
              world,
              new TrafficSimulator.Options(
                  "127.0.0.1", running.gateway().port(), "ab", 2_000, 3, 150, 16, 0, 5));
      traffic.start();
      await(
          "a full window of captured rows measured",
          120,
          () -> {
            try {
              JsonObject d = policy().getJsonObject("drift");
              return d != null && d.getInteger("window_rows") == 2_000 && d.containsKey("psi_max");
            } catch (Exception e) {
              return false;
            }
          });
      assertTrue(policy().getString("last_action").startsWith("no drift"), policy().encode());
      assertTrue(jobs().isEmpty(), jobs().encode());

      // 2. The population shifts: drift, a job on rows of the new distribution, a new version.
      world.shift(2.0);
      await(
          "a recalibration job to finish",
          180,
          () -> {
            try {
              JsonArray j = jobs();
              return !j.isEmpty()
                  && List.of("succeeded", "failed").contains(j.getJsonObject(0).getString("state"));
            } catch (Exception e) {
              return false;
            }
          });
      JsonObject job = jobs().getJsonObject(0);
      assertEquals("succeeded", job.getString("state"), job.encodePrettily());
      assertEquals(1, jobs().size(), "one job for one drift");
      assertEquals(2, store.versions(INT8).size());
      String metrics = get0("/metrics");
      assertTrue(metrics.contains("distill_drift_psi{column=\"dense[0]\",model=\"" + INT8 + "\"}"));
      assertTrue(
          metrics.contains(
              "distill_recalibrations_total{model=\"" + INT8 + "\",reason=\"drift\"} 1.0"),
          metrics);

      // 3. The canary: the experiment's next generation serves version 2 at 50%.
      await(
          "the canary to serve",
          60,
          () -> {
            try {
              JsonArray vs = get("/v1/experiments/ab", false).getJsonArray("variants");
              return vs.size() == 2 && "2".equals(vs.getJsonObject(1).getString("version"));
            } catch (Exception e) {
              return false;
            }
          });
      traffic.stop().toCompletionStage().toCompletableFuture().get();

      // 4. The decision: users of the canary rarely click, the teacher's often: rolled back.
      Random random = new Random(9);
      for (int u = 0; u < 600 && !rolledBack(); u++) {
        JsonObject body =
            new JsonObject()
                .put("inputs", world.draw(random).inputs())
                .put("parameters", new JsonObject().put("user_id", "judge-" + u));
        JsonObject r = post("/v2/models/ab/infer", body);
        boolean canary = INT8.equals(r.getJsonObject("parameters").getString("variant"));
        JsonArray clicks = new JsonArray();
        for (int i = 0; i < 8; i++) {
          clicks.add(canary ? (i == 0 && u % 2 == 0 ? 1 : 0) : (i < 6 ? 1 : 0));
        }
        post("/v1/feedback", new JsonObject().put("id", r.getString("id")).put("clicks", clicks));
      }
      await("the decision engine to roll the canary back", 30, this::rolledBack);
    } finally {
      running.close();
    }
  }

  private String get0(String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(base + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private boolean rolledBack() {
    try {
      JsonArray history = get("/v1/experiments/ab", false).getJsonArray("history");
      for (int i = 0; i < history.size(); i++) {
        JsonObject d = history.getJsonObject(i);
        if ("rollback".equals(d.getString("action")) && INT8.equals(d.getString("variant"))) {
          return true;
        }
      }
      return false;
    } catch (Exception e) {
      return false;
    }
  }
}
