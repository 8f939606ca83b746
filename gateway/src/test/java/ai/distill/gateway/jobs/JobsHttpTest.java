package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jobs API end to end on a real gateway, with real quantize jobs on a tiny model. */
class JobsHttpTest {

  private static final String TOKEN = "test-token";

  @TempDir Path dir;

  private Vertx vertx;
  private Gateway gateway;
  private JobRoutes jobs;
  private WebClient client;
  private ModelStore store;
  private final List<String> canaries = new CopyOnWriteArrayList<>();

  private void start(JobRunner runner) throws Exception {
    store = JobFixtures.store(dir);
    JobFixtures.rows(dir.resolve("rows/mlp.jsonl"), 400);
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(dir).build()).await();
    CanaryHook hook =
        (experiment, teacher, model, version, weight) -> {
          canaries.add(experiment + " " + teacher + " " + model + ":" + version + " " + weight);
          return Future.succeededFuture();
        };
    jobs =
        JobRoutes.install(
                gateway, JobsConfig.DEFAULT.withRunner(JobsConfig.Runner.IN_PROCESS), runner, hook)
            .await();
    client = TestGateways.client(vertx);
  }

  @AfterEach
  void stop() {
    if (jobs != null) {
      jobs.close().await();
      gateway.close().await();
      vertx.close().await();
    }
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  private HttpResponse<Buffer> post(String path, JsonObject body) {
    return client
        .post(gateway.port(), "127.0.0.1", path)
        .putHeader("Authorization", "Bearer " + TOKEN)
        .sendJsonObject(body)
        .await();
  }

  private HttpResponse<Buffer> get(String path) {
    return client
        .get(gateway.port(), "127.0.0.1", path)
        .putHeader("Authorization", "Bearer " + TOKEN)
        .send()
        .await();
  }

  private JsonObject awaitState(String id, String state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonObject job;
    do {
      job = get("/admin/v1/jobs/" + id).bodyAsJsonObject();
      if (job.getString("state").equals(state)) {
        return job;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("job " + id + " never became " + state + ": " + job.encodePrettily());
  }

  private static String error(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getString("error");
  }

  @Test
  void a_quantize_job_publishes_a_new_version_and_reports_its_stages() throws Exception {
    start(new InProcessJobRunner());
    HttpResponse<Buffer> accepted =
        post(
            "/admin/v1/optimize",
            JobFixtures.quantizeBody("mlp-int8")
                .put("canary", new JsonObject().put("experiment", "mlp-ab").put("weight", 5)));
    assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
    String id = accepted.bodyAsJsonObject().getString("job");
    assertEquals("/admin/v1/jobs/" + id, accepted.getHeader("Location"));

    JsonObject job = awaitState(id, "succeeded");
    assertEquals(1.0, job.getDouble("progress"));
    assertEquals("mlp-int8", job.getJsonObject("result").getString("model"));
    assertEquals(1L, job.getJsonObject("result").getLong("version"));
    assertEquals(
        "mlp-int8:1", job.getJsonObject("result").getJsonObject("report").getString("published"));
    assertTrue(
        job.getJsonArray("stages").getList().containsAll(List.of("read", "calibrate", "evaluate")),
        job.encodePrettily());
    assertEquals("mlp:1", job.getString("source_version"));
    assertTrue(
        job.getString("started") != null && job.getString("finished") != null,
        job.encodePrettily());
    assertEquals("mlp:1", store.resolve("mlp-int8").manifest().parent());

    awaitCanary(id);
    assertEquals(List.of("mlp-ab mlp mlp-int8:1 5"), canaries);
    // The record is written just after the status changes in memory: wait for the file too.
    JsonObject persisted = new JsonObject(Files.readString(dir.resolve("jobs/" + id + ".json")));
    for (int i = 0;
        i < 600 && !"done".equals(persisted.getJsonObject("canary").getString("status"));
        i++) {
      Thread.sleep(50);
      persisted = new JsonObject(Files.readString(dir.resolve("jobs/" + id + ".json")));
    }
    assertEquals("succeeded", persisted.getString("state"));
    assertEquals("done", persisted.getJsonObject("canary").getString("status"));

    JsonArray listed = get("/admin/v1/jobs").bodyAsJsonObject().getJsonArray("jobs");
    assertEquals(id, listed.getJsonObject(0).getString("id"));
    String metrics =
        client.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    assertTrue(
        metrics.contains("distill_jobs_total{action=\"quantize\",outcome=\"succeeded\"} 1.0"),
        metrics);
    assertTrue(metrics.contains("distill_job_running{source=\"mlp\"} 0.0"), metrics);
  }

  private void awaitCanary(String id) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      JsonObject canary = get("/admin/v1/jobs/" + id).bodyAsJsonObject().getJsonObject("canary");
      if ("done".equals(canary.getString("status"))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the canary status never became done");
  }

  @Test
  void cancelling_a_running_job_publishes_nothing() throws Exception {
    JobFixtures.PausingRunner runner = new JobFixtures.PausingRunner(new InProcessJobRunner());
    start(runner);
    String id =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("mlp-int8"))
            .bodyAsJsonObject()
            .getString("job");
    assertTrue(runner.paused.await(30, TimeUnit.SECONDS), "the job reported progress");
    assertEquals("running", get("/admin/v1/jobs/" + id).bodyAsJsonObject().getString("state"));

    HttpResponse<Buffer> cancel = post("/admin/v1/jobs/" + id + "/cancel", new JsonObject());
    assertEquals(202, cancel.statusCode(), cancel.bodyAsString());
    runner.release.countDown();
    JsonObject job = awaitState(id, "cancelled");
    assertTrue(job.getString("error").contains("nothing was published"), job.getString("error"));
    assertEquals(List.of("mlp", "mlp-small"), store.modelNames());

    HttpResponse<Buffer> again = post("/admin/v1/jobs/" + id + "/cancel", new JsonObject());
    assertEquals(409, again.statusCode());
    assertTrue(error(again).contains("already ended: cancelled"), error(again));
  }

  @Test
  void a_second_job_for_the_same_source_is_refused_naming_the_first() throws Exception {
    JobFixtures.HeldRunner runner = new JobFixtures.HeldRunner();
    start(runner);
    String first =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("mlp-int8"))
            .bodyAsJsonObject()
            .getString("job");
    HttpResponse<Buffer> second = post("/admin/v1/optimize", JobFixtures.quantizeBody("mlp-q2"));
    assertEquals(409, second.statusCode());
    assertTrue(error(second).contains("already running: " + first), error(second));
  }

  @Test
  void parallel_triggers_for_one_source_start_exactly_one_job() throws Exception {
    JobFixtures.HeldRunner runner = new JobFixtures.HeldRunner();
    start(runner);
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      posts.add(
          client
              .post(gateway.port(), "127.0.0.1", "/admin/v1/optimize")
              .putHeader("Authorization", "Bearer " + TOKEN)
              .sendJsonObject(JobFixtures.quantizeBody("mlp-q" + i)));
    }
    List<Integer> statuses = new ArrayList<>();
    for (Future<HttpResponse<Buffer>> f : posts) {
      statuses.add(f.await().statusCode());
    }
    assertEquals(1, statuses.stream().filter(s -> s == 202).count(), statuses.toString());
    assertEquals(4, statuses.stream().filter(s -> s == 409).count(), statuses.toString());
    assertEquals(1, runner.starts.get());
    assertEquals(1, get("/admin/v1/jobs").bodyAsJsonObject().getJsonArray("jobs").size());
  }

  @Test
  void too_few_captured_rows_are_refused_with_both_counts() throws Exception {
    start(new JobFixtures.HeldRunner());
    JobFixtures.rows(dir.resolve("captures/mlp/segment-000001.jsonl"), 12);
    HttpResponse<Buffer> r =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("mlp-int8").put("rows", "capture"));
    assertEquals(400, r.statusCode());
    assertTrue(error(r).startsWith("rows: 12 captured rows of 'capture' exist in "), error(r));
    assertTrue(error(r).contains("1000 are needed"), error(r));

    JsonObject lower = JobFixtures.quantizeBody("mlp-int8").put("rows", "capture");
    lower.getJsonObject("options").put("min_rows", 10);
    assertEquals(202, post("/admin/v1/optimize", lower).statusCode());
  }

  @Test
  void requests_are_checked_before_anything_is_queued() throws Exception {
    start(new JobFixtures.HeldRunner());
    HttpResponse<Buffer> unknown =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("x").put("source", "nope"));
    assertEquals(404, unknown.statusCode());
    assertTrue(error(unknown).contains("model 'nope' not found"), error(unknown));

    HttpResponse<Buffer> student =
        post(
            "/admin/v1/optimize",
            JobFixtures.quantizeBody("x").put("source", "mlp-small").put("action", "distill"));
    assertEquals(400, student.statusCode());
    assertTrue(
        error(student).contains("distill needs a teacher, but mlp-small:1 is a student"),
        error(student));

    HttpResponse<Buffer> escape =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("x").put("rows", "../../etc/passwd"));
    assertEquals(400, escape.statusCode());
    assertTrue(error(escape).contains("is outside the store"), error(escape));

    HttpResponse<Buffer> option =
        post(
            "/admin/v1/optimize",
            JobFixtures.quantizeBody("x").put("options", new JsonObject().put("methd", "minmax")));
    assertEquals(400, option.statusCode());
    assertTrue(
        error(option).startsWith("options.methd: not an option of quantize (accepted: "),
        error(option));

    HttpResponse<Buffer> key =
        post("/admin/v1/optimize", JobFixtures.quantizeBody("x").put("priority", 1));
    assertEquals(400, key.statusCode());
    assertTrue(error(key).startsWith("body: unknown key 'priority'"), error(key));

    assertEquals(404, get("/admin/v1/jobs/20990101-000000-000-0000").statusCode());
    HttpResponse<Buffer> noToken =
        client.get(gateway.port(), "127.0.0.1", "/admin/v1/jobs").send().await();
    assertEquals(401, noToken.statusCode());
    assertEquals(0, get("/admin/v1/jobs").bodyAsJsonObject().getJsonArray("jobs").size());
  }
}
