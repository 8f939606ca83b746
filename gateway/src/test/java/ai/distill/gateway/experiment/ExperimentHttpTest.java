package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment API end to end on a real gateway serving tiny ONNX models built by the test. */
class ExperimentHttpTest {

  private static final String TOKEN = "secret";

  @TempDir Path dir;

  private Gateway gateway;
  private ExperimentRoutes experiments;
  private CaptureRoutes capture;
  private WebClient client;

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = TestGateways.strictVertx();
    ModelStore store = ModelStore.open(dir);
    int[] hidden = {8};
    store.publish(
        PublishRequest.fromBytes(
            "ctr", TinyModels.ctrModel(4, 3, 10, 2, hidden, 1).toBytes(), Role.TEACHER));
    store.publish(
        PublishRequest.fromBytes(
            "ctr-int8", TinyModels.ctrModel(4, 3, 10, 2, hidden, 2).toBytes(), Role.STUDENT));
    store.publish(
        PublishRequest.fromBytes("plain", TinyModels.mlp(4, hidden, 3).toBytes(), Role.STUDENT));
    gateway =
        Gateway.start(vertx, GatewayConfig.builder(dir).port(0).adminToken(TOKEN).build()).await();
    FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
    capture = CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
    experiments =
        ExperimentRoutes.install(
                gateway, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
            .await();
    client = WebClient.create(vertx);
  }

  @AfterEach
  void stop() {
    experiments.close().await();
    capture.close().await();
    gateway.close().await();
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  private HttpResponse<Buffer> post(String path, JsonObject body, String token) {
    var req = client.post(gateway.port(), "localhost", path);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req.sendJsonObject(body).await();
  }

  private HttpResponse<Buffer> get(String path) {
    return client.get(gateway.port(), "localhost", path).send().await();
  }

  static JsonObject definition(String name) {
    return new JsonObject()
        .put("name", name)
        .put("teacher", "ctr")
        .put(
            "variants",
            new JsonArray()
                .add(new JsonObject().put("model", "ctr").put("weight", 50))
                .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)))
        .put("margin", 0.99)
        .put("shadow_rate", 1.0)
        .put("capture_rate", 1.0)
        .put("auto", true);
  }

  private String error(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getString("error");
  }

  @Test
  void admin_create_requires_the_token_and_checks_models() {
    assertEquals(401, post("/admin/v1/experiments", definition("ab"), null).statusCode());
    assertEquals(403, post("/admin/v1/experiments", definition("ab"), "wrong").statusCode());

    JsonObject clash = definition("ctr");
    HttpResponse<Buffer> r = post("/admin/v1/experiments", clash, TOKEN);
    assertEquals(409, r.statusCode());
    assertTrue(error(r).startsWith("name: 'ctr' is already a model"), error(r));

    JsonObject mismatch = definition("ab");
    mismatch.getJsonArray("variants").getJsonObject(1).put("model", "plain");
    r = post("/admin/v1/experiments", mismatch, TOKEN);
    assertEquals(400, r.statusCode());
    assertTrue(error(r).startsWith("variants[1].model: 'plain' has signature"), error(r));

    r =
        client
            .post(gateway.port(), "localhost", "/admin/v1/experiments")
            .putHeader("Authorization", "Bearer " + TOKEN)
            .sendBuffer(Buffer.buffer("{not json"))
            .await();
    assertEquals(400, r.statusCode());
    assertTrue(error(r).startsWith("body: not a JSON object"), error(r));

    r = post("/admin/v1/experiments", definition("ab"), TOKEN);
    assertEquals(201, r.statusCode(), r.bodyAsString());
    assertEquals("running", r.bodyAsJsonObject().getString("status"));
    assertEquals(409, post("/admin/v1/experiments", definition("ab"), TOKEN).statusCode());
  }

  @Test
  void infer_through_an_experiment_is_sticky_and_feedback_joins() {
    assertEquals(201, post("/admin/v1/experiments", definition("ab"), TOKEN).statusCode());

    HttpResponse<Buffer> first =
        post("/v2/models/ab/infer", TestGateways.inferBody("u42", 3), null);
    assertEquals(200, first.statusCode(), first.bodyAsString());
    JsonObject body = first.bodyAsJsonObject();
    String variant = body.getJsonObject("parameters").getString("variant");
    assertTrue(variant.equals("ctr") || variant.equals("ctr-int8"), body.encode());
    assertNotNull(body.getJsonObject("parameters").getString("model_version"));
    String id = body.getString("id");
    assertNotNull(id);
    for (int i = 0; i < 5; i++) {
      JsonObject again =
          post("/v2/models/ab/infer", TestGateways.inferBody("u42", 1), null).bodyAsJsonObject();
      assertEquals(variant, again.getJsonObject("parameters").getString("variant"), "sticky");
    }

    HttpResponse<Buffer> wrong =
        post(
            "/v1/feedback",
            new JsonObject().put("id", id).put("clicks", new JsonArray().add(1)),
            null);
    assertEquals(400, wrong.statusCode());
    assertEquals(
        "clicks: expected 3 values (one per row of response '" + id + "'), received 1",
        error(wrong));
    JsonObject clicks =
        new JsonObject().put("id", id).put("clicks", new JsonArray().add(0).add(1).add(1));
    HttpResponse<Buffer> joined = post("/v1/feedback", clicks, null);
    assertEquals(200, joined.statusCode(), joined.bodyAsString());
    assertEquals("joined", joined.bodyAsJsonObject().getString("status"));
    assertEquals(
        "duplicate", post("/v1/feedback", clicks, null).bodyAsJsonObject().getString("status"));
    assertEquals(404, post("/v1/feedback", clicks.copy().put("id", "nope"), null).statusCode());
    assertEquals(400, post("/v1/feedback", new JsonObject().put("id", id), null).statusCode());

    JsonObject exp = get("/v1/experiments/ab").bodyAsJsonObject();
    JsonObject served = null;
    for (Object o : exp.getJsonArray("variants")) {
      JsonObject v = (JsonObject) o;
      if (v.getString("model").equals(variant)) {
        served = v;
      }
      for (String field :
          new String[] {
            "model",
            "version",
            "weight",
            "exposures",
            "impressions",
            "clicks",
            "ctr",
            "ctr_ci",
            "p99_seconds",
            "error_rate",
            "decision"
          }) {
        assertTrue(v.containsKey(field), "variant field " + field + " in " + v.encode());
      }
    }
    assertNotNull(served);
    assertEquals(1, served.getLong("exposures"));
    assertEquals(8, served.getLong("impressions"));
    assertEquals(2, served.getLong("clicks"));
    assertTrue(exp.getJsonObject("srm").containsKey("p_value"));
    assertTrue(exp.getJsonObject("srm").containsKey("alarm"));
    assertEquals(1, get("/v1/experiments").bodyAsJsonObject().getJsonArray("experiments").size());
    assertEquals(404, get("/v1/experiments/nope").statusCode());

    String metrics = get("/metrics").bodyAsString();
    assertTrue(
        metrics.contains(
            "distill_experiment_exposures_total{experiment=\"ab\",variant=\"" + variant + "\"} 1"),
        metrics);
    assertTrue(metrics.contains("distill_feedback_total{outcome=\"joined\"} 1"), metrics);
  }

  @Test
  void manual_decisions_change_the_split_and_are_kept_in_the_history() {
    assertEquals(
        201,
        post("/admin/v1/experiments", definition("ab").put("auto", false), TOKEN).statusCode());
    HttpResponse<Buffer> r =
        post("/admin/v1/experiments/ab/rollback", new JsonObject().put("reason", "test"), TOKEN);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject exp = r.bodyAsJsonObject();
    assertEquals("rolled_back", exp.getString("status"));
    JsonObject last = exp.getJsonArray("history").getJsonObject(0);
    assertEquals("rollback", last.getString("action"));
    assertEquals("test", last.getString("reason"));
    for (int u = 0; u < 20; u++) {
      JsonObject resp =
          post("/v2/models/ab/infer", TestGateways.inferBody("user" + u, 1), null)
              .bodyAsJsonObject();
      assertEquals("ctr", resp.getJsonObject("parameters").getString("variant"));
    }
    assertEquals(
        409, post("/admin/v1/experiments/ab/promote", new JsonObject(), TOKEN).statusCode());
    assertEquals(
        404, post("/admin/v1/experiments/ab/explode", new JsonObject(), TOKEN).statusCode());
    assertEquals(
        404, post("/admin/v1/experiments/nope/stop", new JsonObject(), TOKEN).statusCode());
    assertEquals(401, post("/admin/v1/experiments/ab/stop", new JsonObject(), null).statusCode());
  }

  @Test
  void plain_model_traffic_is_captured_at_its_rate_and_labelled_by_feedback() throws Exception {
    assertEquals(
        401,
        post("/admin/v1/capture", new JsonObject().put("model", "ctr").put("rate", 1.0), null)
            .statusCode());
    assertEquals(
        400,
        post("/admin/v1/capture", new JsonObject().put("model", "ctr").put("rate", 2.0), TOKEN)
            .statusCode());
    HttpResponse<Buffer> r =
        post("/admin/v1/capture", new JsonObject().put("model", "ctr").put("rate", 1.0), TOKEN);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(1.0, r.bodyAsJsonObject().getJsonObject("models").getDouble("ctr"));

    HttpResponse<Buffer> served =
        post("/v2/models/ctr/infer", TestGateways.inferBody(null, 2).put("id", "req-1"), null);
    assertEquals(200, served.statusCode(), served.bodyAsString());
    assertEquals("req-1", served.bodyAsJsonObject().getString("id"));
    HttpResponse<Buffer> joined =
        post(
            "/v1/feedback",
            new JsonObject().put("id", "req-1").put("clicks", new JsonArray().add(1).add(0)),
            null);
    assertEquals(200, joined.statusCode(), joined.bodyAsString());

    experiments.close().await();
    capture.close().await();
    Path stream = dir.resolve("captures").resolve("ctr");
    List<String> lines =
        java.nio.file.Files.readAllLines(
            ai.distill.gateway.capture.CaptureWriter.segmentFiles(stream).get(0));
    assertEquals(2, lines.size());
    JsonObject row = new JsonObject(lines.get(0));
    assertEquals(1, row.getInteger("label"));
    assertEquals("req-1", row.getString("id"));
    assertEquals(4, row.getJsonObject("inputs").getJsonArray("dense").size());
    assertEquals(0, new JsonObject(lines.get(1)).getInteger("label"));
  }

  private HttpResponse<Buffer> postRaw(String path, String contentType, Buffer body) {
    var req =
        client
            .post(gateway.port(), "localhost", path)
            .putHeader("Authorization", "Bearer " + TOKEN);
    if (contentType != null) {
      req.putHeader("Content-Type", contentType);
    }
    return body == null ? req.send().await() : req.sendBuffer(body).await();
  }

  @Test
  void decisions_without_a_body_or_with_an_empty_one_are_accepted() {
    assertEquals(
        201,
        post("/admin/v1/experiments", definition("ab").put("auto", false), TOKEN).statusCode());
    // curl -X POST (no body at all), then curl -d '' (an empty form body).
    HttpResponse<Buffer> r = postRaw("/admin/v1/experiments/ab/promote", null, null);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals("promoted", r.bodyAsJsonObject().getString("status"));
    assertEquals(
        "manual promotion",
        r.bodyAsJsonObject().getJsonArray("history").getJsonObject(0).getString("reason"));
    assertEquals(
        201,
        post("/admin/v1/experiments", definition("cd").put("auto", false), TOKEN).statusCode());
    r =
        postRaw(
            "/admin/v1/experiments/cd/stop",
            "application/x-www-form-urlencoded",
            Buffer.buffer(""));
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals("stopped", r.bodyAsJsonObject().getString("status"));
  }

  @Test
  void requests_to_an_experiment_that_do_not_decode_are_counted_as_bad_requests() {
    assertEquals(201, post("/admin/v1/experiments", definition("ab"), TOKEN).statusCode());
    HttpResponse<Buffer> r = postRaw("/v2/models/ab/infer", null, Buffer.buffer("{\"inputs\": [}"));
    assertEquals(400, r.statusCode(), r.bodyAsString());
    List<String> badRequests =
        get("/metrics")
            .bodyAsString()
            .lines()
            .filter(l -> l.startsWith("distill_requests_total{") && l.contains("bad_request"))
            .toList();
    assertEquals(1, badRequests.size(), badRequests.toString());
    assertTrue(
        badRequests.get(0).contains("transport=\"http\"") && badRequests.get(0).endsWith(" 1.0"),
        badRequests.toString());
  }

  @Test
  void decisions_on_an_unknown_experiment_are_404_whatever_the_body() {
    for (Buffer body : new Buffer[] {null, Buffer.buffer(""), Buffer.buffer("{not json")}) {
      HttpResponse<Buffer> r = postRaw("/admin/v1/experiments/nope/rollback", null, body);
      assertEquals(404, r.statusCode(), r.bodyAsString());
      assertTrue(error(r).contains("'nope'"), error(r));
    }
  }

  @Test
  void decisions_reject_unknown_keys_and_unknown_models() {
    assertEquals(
        201,
        post("/admin/v1/experiments", definition("ab").put("auto", false), TOKEN).statusCode());
    HttpResponse<Buffer> r =
        post("/admin/v1/experiments/ab/promote", new JsonObject().put("variant", "ghost"), TOKEN);
    assertEquals(400, r.statusCode(), r.bodyAsString());
    assertTrue(
        error(r).contains("unknown key 'variant'") && error(r).contains("model, reason"), error(r));
    r = post("/admin/v1/experiments/ab/rollback", new JsonObject().put("model", "ghost"), TOKEN);
    assertEquals(404, r.statusCode(), r.bodyAsString());
    assertTrue(error(r).contains("'ghost'") && error(r).contains("ctr-int8"), error(r));
    assertEquals(
        "running",
        get("/v1/experiments/ab").bodyAsJsonObject().getString("status"),
        "nothing was promoted or rolled back");
  }

  @Test
  void capture_rate_for_an_experiment_name_is_refused_in_favour_of_its_definition() {
    assertEquals(201, post("/admin/v1/experiments", definition("ab"), TOKEN).statusCode());
    HttpResponse<Buffer> r =
        post("/admin/v1/capture", new JsonObject().put("model", "ab").put("rate", 1.0), TOKEN);
    assertEquals(400, r.statusCode(), r.bodyAsString());
    assertTrue(error(r).contains("capture_rate"), error(r));
    assertEquals(new JsonObject(), get("/v1/capture").bodyAsJsonObject().getJsonObject("models"));
  }

  @Test
  void a_request_id_reused_by_two_users_is_refused_as_ambiguous_and_counted() {
    assertEquals(201, post("/admin/v1/experiments", definition("ab"), TOKEN).statusCode());
    assertEquals(
        200,
        post("/v2/models/ab/infer", TestGateways.inferBody("alice", 1).put("id", "dup-1"), null)
            .statusCode());
    assertEquals(
        200,
        post("/v2/models/ab/infer", TestGateways.inferBody("bob", 1).put("id", "dup-1"), null)
            .statusCode());
    HttpResponse<Buffer> r =
        post(
            "/v1/feedback",
            new JsonObject().put("id", "dup-1").put("clicks", new JsonArray().add(1)),
            null);
    assertEquals(409, r.statusCode(), r.bodyAsString());
    assertTrue(error(r).contains("unique"), error(r));
    // The same user retrying the same request is not a collision.
    assertEquals(
        200,
        post("/v2/models/ab/infer", TestGateways.inferBody("carol", 1).put("id", "once"), null)
            .statusCode());
    assertEquals(
        200,
        post("/v2/models/ab/infer", TestGateways.inferBody("carol", 1).put("id", "once"), null)
            .statusCode());
    assertEquals(
        200,
        post(
                "/v1/feedback",
                new JsonObject().put("id", "once").put("clicks", new JsonArray().add(1)),
                null)
            .statusCode());
    String metrics = get("/metrics").bodyAsString();
    assertTrue(metrics.contains("distill_feedback_id_collisions_total 1.0"), metrics);
    assertTrue(metrics.contains("distill_feedback_total{outcome=\"ambiguous\"} 1"), metrics);
  }
}
