package ai.distill.gateway.feedback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways given the same feedback key: feedback for a response served by one joins on the
 * other; forged and altered ids are refused with 400.
 */
class SignedFeedbackHttpTest {

  private static final String TOKEN = "secret";
  private static final String KEY = "a-feedback-key-both-instances-share";

  @TempDir Path dirA;
  @TempDir Path dirB;

  private Vertx vertx;
  private WebClient client;
  private final List<Gateway> gateways = new ArrayList<>();
  private final List<ExperimentRoutes> experiments = new ArrayList<>();
  private final List<FeedbackService> feedbacks = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = TestGateways.strictVertx();
    client = WebClient.create(vertx);
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
      FeedbackRoutes feedback = FeedbackRoutes.install(g, FeedbackService.DEFAULT_MAX_ENTRIES, KEY);
      feedbacks.add(feedback.service());
      experiments.add(
          ExperimentRoutes.install(g, ExperimentService.Options.DEFAULT, feedback.service(), null)
              .await());
      gateways.add(g);
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

  @Test
  void feedback_for_a_response_of_one_instance_joins_on_the_other() {
    Gateway a = gateways.get(0);
    Gateway b = gateways.get(1);
    HttpResponse<Buffer> served =
        post(a, "/v2/models/ab/infer", TestGateways.inferBody("u7", 2), null);
    assertEquals(200, served.statusCode(), served.bodyAsString());
    String id = served.bodyAsJsonObject().getString("id");
    String variant = served.bodyAsJsonObject().getJsonObject("parameters").getString("variant");
    assertTrue(id.startsWith(ResponseIdSigner.PREFIX), id);

    JsonObject clicks = new JsonObject().put("id", id).put("clicks", new JsonArray().add(1).add(1));
    List<Impression> joinedOnB = new ArrayList<>();
    feedbacks.get(1).addJoinListener((i, c) -> joinedOnB.add(i));
    HttpResponse<Buffer> joined = post(b, "/v1/feedback", clicks, null);
    assertEquals(200, joined.statusCode(), joined.bodyAsString());
    assertEquals("joined", joined.bodyAsJsonObject().getString("status"));
    assertEquals(variant, joined.bodyAsJsonObject().getString("variant"));
    assertEquals(
        "duplicate", post(b, "/v1/feedback", clicks, null).bodyAsJsonObject().getString("status"));
    // B attributes the clicks from the id alone (without Kafka its own ledgers never saw u7, so
    // only the experiment events shared through Kafka make the counts agree)
    assertEquals(1, joinedOnB.size());
    Impression i = joinedOnB.get(0);
    assertEquals(
        List.of("ab", variant, "u7", 2), List.of(i.experiment(), i.model(), i.userId(), i.rows()));
  }

  @Test
  void a_forged_or_altered_id_is_refused_with_400() {
    Gateway a = gateways.get(0);
    String id =
        post(a, "/v2/models/ab/infer", TestGateways.inferBody("u8", 2), null)
            .bodyAsJsonObject()
            .getString("id");
    String altered = id.substring(0, id.length() - 2) + (id.endsWith("AA") ? "BB" : "AA");
    for (String bad : List.of(altered, "d1.eyJlIjoiYWIifQ.c2lnbmF0dXJl")) {
      HttpResponse<Buffer> r =
          post(
              a,
              "/v1/feedback",
              new JsonObject().put("id", bad).put("clicks", new JsonArray().add(1).add(1)),
              null);
      assertEquals(400, r.statusCode(), r.bodyAsString());
      assertTrue(
          r.bodyAsJsonObject().getString("error").contains("signature does not match"),
          r.bodyAsString());
    }
  }
}
