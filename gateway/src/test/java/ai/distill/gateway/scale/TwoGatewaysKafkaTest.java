package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways sharing one real in-process KRaft broker: a user's requests go alternately to both,
 * feedback to the other instance, and both report identical experiment counts once their lag has
 * drained; feedback joined on both instances counts once.
 */
class TwoGatewaysKafkaTest {

  private static final String TOKEN = "secret";
  private static final String KEY = "a-feedback-key-both-instances-share";

  @TempDir static Path brokerDir;
  private static InProcessKafka kafka;

  @TempDir Path dirA;
  @TempDir Path dirB;

  private Vertx vertx;
  private WebClient client;
  private final List<Gateway> gateways = new ArrayList<>();
  private final List<ExperimentRoutes> experiments = new ArrayList<>();
  private final List<ScaleRoutes> scales = new ArrayList<>();

  @BeforeAll
  static void broker() throws Exception {
    kafka = InProcessKafka.start(brokerDir);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    kafka.close();
  }

  @BeforeEach
  void start() {
    vertx = TestGateways.strictVertx();
    client = WebClient.create(vertx);
    KafkaConfig config = new KafkaConfig(kafka.bootstrap(), "t" + System.nanoTime(), 10_000);
    for (Path dir : List.of(dirA, dirB)) {
      ModelStore store = ModelStore.open(dir);
      int[] hidden = {8};
      store.publish(
          PublishRequest.fromBytes(
              "ctr", TinyModels.ctrModel(4, 3, 10, 2, hidden, 1).toBytes(), Role.TEACHER));
      store.publish(
          PublishRequest.fromBytes(
              "ctr-int8", TinyModels.ctrModel(4, 3, 10, 2, hidden, 2).toBytes(), Role.STUDENT));
      Gateway g =
          Gateway.start(vertx, GatewayConfig.builder(dir).port(0).adminToken(TOKEN).build())
              .await();
      gateways.add(g);
      FeedbackRoutes feedback = FeedbackRoutes.install(g, FeedbackService.DEFAULT_MAX_ENTRIES, KEY);
      ExperimentRoutes e =
          ExperimentRoutes.install(g, ExperimentService.Options.DEFAULT, feedback.service(), null)
              .await();
      experiments.add(e);
      scales.add(ScaleRoutes.install(g, config, feedback.service(), e.service()).await());
      JsonObject def =
          new JsonObject()
              .put("name", "ab")
              .put("teacher", "ctr")
              .put(
                  "variants",
                  new JsonArray()
                      .add(new JsonObject().put("model", "ctr").put("weight", 50))
                      .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)));
      assertEquals(201, post(g, "/admin/v1/experiments", def, TOKEN).statusCode());
    }
  }

  @AfterEach
  void stop() {
    scales.forEach(s -> s.close().await());
    experiments.forEach(e -> e.close().await());
    gateways.forEach(g -> g.close().await());
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  private HttpResponse<Buffer> post(Gateway g, String path, JsonObject body, String token) {
    var req = client.post(g.port(), "localhost", path);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req.sendJsonObject(body).await();
  }

  private JsonObject shared(Gateway g) {
    return client
        .get(g.port(), "localhost", "/v1/scale/experiments/ab")
        .send()
        .await()
        .bodyAsJsonObject();
  }

  private static JsonObject inferBody(String user) {
    return new JsonObject()
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "dense")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(2).add(4))
                        .put(
                            "data",
                            new JsonArray()
                                .add(0.1)
                                .add(0.2)
                                .add(0.3)
                                .add(0.4)
                                .add(0.5)
                                .add(0.6)
                                .add(0.7)
                                .add(0.8)))
                .add(
                    new JsonObject()
                        .put("name", "sparse")
                        .put("datatype", "INT64")
                        .put("shape", new JsonArray().add(2).add(3))
                        .put("data", new JsonArray().add(1).add(2).add(3).add(4).add(5).add(6))))
        .put("parameters", new JsonObject().put("user_id", user));
  }

  @Test
  void both_instances_report_the_same_counts_once_the_lag_drains() throws Exception {
    int requests = 12;
    for (int k = 0; k < requests; k++) {
      Gateway served = gateways.get(k % 2);
      Gateway other = gateways.get((k + 1) % 2);
      HttpResponse<Buffer> r = post(served, "/v2/models/ab/infer", inferBody("u" + (k % 4)), null);
      assertEquals(200, r.statusCode(), r.bodyAsString());
      JsonObject clicks =
          new JsonObject()
              .put("id", r.bodyAsJsonObject().getString("id"))
              .put("clicks", new JsonArray().add(1).add(0));
      HttpResponse<Buffer> f = post(other, "/v1/feedback", clicks, null);
      assertEquals("joined", f.bodyAsJsonObject().getString("status"), f.bodyAsString());
      if (k == 0) {
        // the same feedback sent to the serving instance too: joined there as well, folded once
        assertEquals(
            "joined",
            post(served, "/v1/feedback", clicks, null).bodyAsJsonObject().getString("status"));
      }
    }

    JsonObject a = null;
    JsonObject b = null;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      a = shared(gateways.get(0));
      b = shared(gateways.get(1));
      if (totals(a)[1] == 2L * requests
          && totals(a)[2] == requests
          && a.getLong("lag_records") == 0
          && b.getLong("lag_records") == 0
          && a.getJsonArray("variants").equals(b.getJsonArray("variants"))) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(a.getJsonArray("variants"), b.getJsonArray("variants"), "identical counts");
    long[] t = totals(a);
    assertEquals(List.of(4L, 2L * requests, (long) requests), List.of(t[0], t[1], t[2]));
    assertEquals(0, b.getLong("lag_records"));

    String metrics =
        client.get(gateways.get(1).port(), "localhost", "/metrics").send().await().bodyAsString();
    assertTrue(metrics.contains("distill_kafka_consumer_lag_records 0.0"), metrics);
    assertTrue(
        metrics.contains("distill_kafka_events_folded_total{outcome=\"duplicate\"} 1.0"), metrics);
  }

  // exposures, impressions, clicks over all variants
  private static long[] totals(JsonObject view) {
    long[] t = new long[3];
    for (Object o : view.getJsonArray("variants")) {
      JsonObject v = (JsonObject) o;
      t[0] += v.getLong("exposures");
      t[1] += v.getLong("impressions");
      t[2] += v.getLong("clicks");
    }
    return t;
  }
}
