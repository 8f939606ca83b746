package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
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
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One gateway wired as {@code distill serve --kafka} wires it (feedback, capture, experiments,
 * scale-out) on a store holding the tiny models {@code ctr} (teacher) and {@code ctr-int8}, for the
 * Kafka tests. {@link #close} stops it cleanly; {@link #kill} as a crash would.
 */
final class KafkaGateway {

  static final String TOKEN = "secret";
  static final String KEY = "a-feedback-key-both-instances-share";

  final Gateway gateway;
  final FeedbackRoutes feedback;
  final CaptureRoutes capture;
  final ExperimentRoutes experiments;
  final ScaleRoutes scale;
  private final WebClient client;

  private KafkaGateway(
      Gateway gateway,
      FeedbackRoutes feedback,
      CaptureRoutes capture,
      ExperimentRoutes experiments,
      ScaleRoutes scale,
      WebClient client) {
    this.gateway = gateway;
    this.feedback = feedback;
    this.capture = capture;
    this.experiments = experiments;
    this.scale = scale;
    this.client = client;
  }

  /** Publishes the two models into {@code dir} unless they are there. */
  static void models(Path dir) throws Exception {
    if (Files.isDirectory(dir.resolve("models").resolve("ctr"))) {
      return;
    }
    ModelStore store = ModelStore.open(dir);
    int[] hidden = {8};
    store.publish(
        PublishRequest.fromBytes(
            "ctr", TinyModels.ctrModel(4, 3, 10, 2, hidden, 1).toBytes(), Role.TEACHER));
    store.publish(
        PublishRequest.fromBytes(
            "ctr-int8", TinyModels.ctrModel(4, 3, 10, 2, hidden, 2).toBytes(), Role.STUDENT));
  }

  static KafkaGateway start(Vertx vertx, Path dir, KafkaConfig kafka, String instance)
      throws Exception {
    models(dir);
    Gateway g =
        Gateway.start(vertx, GatewayConfig.builder(dir).port(0).adminToken(TOKEN).build()).await();
    FeedbackRoutes feedback = FeedbackRoutes.install(g, FeedbackService.DEFAULT_MAX_ENTRIES, KEY);
    CaptureRoutes capture =
        CaptureRoutes.install(g, CaptureService.Options.DEFAULT, feedback.service());
    ExperimentRoutes e =
        ExperimentRoutes.install(
                g, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
            .await();
    ScaleRoutes scale = ScaleRoutes.install(g, kafka, instance, e.service()).await();
    scale.shareCaptures(capture.service());
    return new KafkaGateway(g, feedback, capture, e, scale, WebClient.create(vertx));
  }

  /** The experiment {@code name}, teacher {@code ctr} and student {@code ctr-int8} at 50/50. */
  static JsonObject experiment(String name) {
    return new JsonObject()
        .put("name", name)
        .put("teacher", "ctr")
        .put(
            "variants",
            new JsonArray()
                .add(new JsonObject().put("model", "ctr").put("weight", 50))
                .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)));
  }

  void create(JsonObject definition) {
    HttpResponse<Buffer> r = post("/admin/v1/experiments", definition, TOKEN);
    assertEquals(201, r.statusCode(), r.bodyAsString());
  }

  /** Creates the experiment here and waits until each of {@code others} runs it too. */
  void createShared(JsonObject definition, KafkaGateway... others) throws InterruptedException {
    create(definition);
    for (KafkaGateway o : others) {
      o.awaitExperiment(definition.getString("name"));
    }
  }

  /** Waits (60 s at most) until this instance runs the experiment {@code name}. */
  void awaitExperiment(String name) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (client
            .get(gateway.port(), "localhost", "/v1/experiments/" + name)
            .send()
            .await()
            .statusCode()
        != 200) {
      assertTrue(System.nanoTime() < deadline, name + " not shared within 60 s");
      Thread.sleep(50);
    }
  }

  HttpResponse<Buffer> post(String path, JsonObject body, String token) {
    var req = client.post(gateway.port(), "localhost", path);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req.sendJsonObject(body).await();
  }

  JsonObject get(String path) {
    HttpResponse<Buffer> r = client.get(gateway.port(), "localhost", path).send().await();
    assertEquals(200, r.statusCode(), path + ": " + r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  String metrics() {
    return client.get(gateway.port(), "localhost", "/metrics").send().await().bodyAsString();
  }

  /** Serves {@code user} through {@code experiment}; returns the response. */
  JsonObject infer(String experiment, String user) {
    HttpResponse<Buffer> r =
        post("/v2/models/" + experiment + "/infer", TestGateways.inferBody(user, 2), null);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  /** Sends clicks for a response; returns the feedback status. */
  String feedback(String responseId, int... clicks) {
    JsonArray c = new JsonArray();
    for (int k : clicks) {
      c.add(k);
    }
    return post("/v1/feedback", new JsonObject().put("id", responseId).put("clicks", c), null)
        .bodyAsJsonObject()
        .getString("status");
  }

  void close() {
    scale.close().await();
    experiments.close().await();
    capture.close().await();
    gateway.close().await();
  }

  /** Kafka clients stopped as by a crash (no flush, the decider group not left), then the rest. */
  void kill() {
    scale.kill().await();
    experiments.close().await();
    capture.close().await();
    gateway.close().await();
  }
}
