package ai.distill.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.scale.InProcessKafka;
import ai.distill.gateway.scale.KafkaConfig;
import ai.distill.gateway.scale.ScaleConfig;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways started as {@code distill serve --kafka} starts them, on one store directory: each
 * keeps its own state under {@code <store>/instances/<id>/} (no file written by both), and an
 * instance restarted on that store reports the same counts as the other (the counts it had saved
 * are replaced by the topic's, not added to them).
 */
class SharedStoreKafkaTest {

  @TempDir Path brokerDir;
  @TempDir Path store;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void two_instances_on_one_store_write_their_state_apart_and_a_restart_counts_nothing_twice()
      throws Exception {
    int[] hidden = {8};
    ModelStore models = ModelStore.open(store);
    models.publish(
        PublishRequest.fromBytes(
            "ctr", TinyModels.ctrModel(4, 3, 10, 2, hidden, 1).toBytes(), Role.TEACHER));
    models.publish(
        PublishRequest.fromBytes(
            "ctr-int8", TinyModels.ctrModel(4, 3, 10, 2, hidden, 2).toBytes(), Role.STUDENT));
    try (InProcessKafka kafka = InProcessKafka.start(brokerDir)) {
      List<ServeCommand.Running> running = new ArrayList<>();
      try {
        running.add(start(kafka, "a"));
        running.add(start(kafka, "b"));
        // created on a, shared through the definitions topic: b runs it too
        assertEquals(201, post(running.get(0), "/admin/v1/experiments", experiment()).statusCode());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (get(running.get(1), "/v1/experiments").getJsonArray("experiments").isEmpty()) {
          assertTrue(System.nanoTime() < deadline, "the experiment reached b");
          Thread.sleep(50);
        }
        for (int k = 0; k < 8; k++) {
          ServeCommand.Running served = running.get(k % 2);
          JsonObject out =
              new JsonObject(
                  post(served, "/v2/models/ab/infer", TestGateways.inferBody("u" + k, 2)).body());
          JsonObject clicks =
              new JsonObject()
                  .put("id", out.getString("id"))
                  .put("clicks", new JsonArray().add(1).add(0));
          assertEquals(200, post(running.get((k + 1) % 2), "/v1/feedback", clicks).statusCode());
        }
        awaitSameCounts(running.get(0), running.get(1), 16);

        running.remove(0).close(); // persists a's experiments and pending impressions
        running.add(0, start(kafka, "a")); // a again, on the same store and its own folder
        awaitSameCounts(running.get(0), running.get(1), 16);
      } finally {
        for (ServeCommand.Running r : running) {
          r.close();
        }
      }
    }
    for (String id : List.of("a", "b")) {
      Path own = store.resolve("instances").resolve(id);
      assertTrue(Files.isRegularFile(own.resolve("experiments/ab.json")), own + " has ab.json");
    }
    assertFalse(Files.exists(store.resolve("experiments/ab.json")), "nothing in the shared root");
    assertFalse(Files.exists(store.resolve("jobs")), "job records are per instance too");
    try (Stream<Path> captures = Files.walk(store.resolve("instances"))) {
      assertEquals(
          List.of(),
          captures
              .filter(p -> p.toString().endsWith(".jsonl") && p.toString().contains("captures"))
              .toList(),
          "captured rows went to the topic, not to segment files");
    }
  }

  private ServeCommand.Running start(InProcessKafka kafka, String instance) throws Exception {
    GatewayConfig cfg = TestGateways.config(store).build();
    return ServeCommand.Running.start(
        cfg,
        new ScaleConfig(
            "a-feedback-key-both-instances-share",
            new KafkaConfig(kafka.bootstrap(), "shared", 10_000, 1_000, instance)));
  }

  private HttpResponse<String> post(ServeCommand.Running r, String path, JsonObject body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.gateway().port() + path))
            .header("Authorization", "Bearer " + r.gateway().adminToken())
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject get(ServeCommand.Running r, String path) throws Exception {
    return new JsonObject(
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.gateway().port() + path))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body());
  }

  // both report the same exposures, impressions and clicks per variant, and all the impressions
  private void awaitSameCounts(ServeCommand.Running a, ServeCommand.Running b, long impressions)
      throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      List<Long> ca = counts(a);
      List<Long> cb = counts(b);
      if (ca.equals(cb) && ca.get(ca.size() - 2) == impressions) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "counts differ: " + ca + " vs " + cb);
      Thread.sleep(100);
    }
  }

  // per variant exposures, impressions, clicks; then the total impressions and clicks
  private List<Long> counts(ServeCommand.Running r) throws Exception {
    List<Long> out = new ArrayList<>();
    long imp = 0;
    long clicks = 0;
    for (Object o : get(r, "/v1/experiments/ab").getJsonArray("variants")) {
      JsonObject v = (JsonObject) o;
      out.add(v.getLong("exposures"));
      out.add(v.getLong("impressions"));
      out.add(v.getLong("clicks"));
      imp += v.getLong("impressions");
      clicks += v.getLong("clicks");
    }
    out.add(imp);
    out.add(clicks);
    return out;
  }

  private static JsonObject experiment() {
    return new JsonObject()
        .put("name", "ab")
        .put("teacher", "ctr")
        .put("capture_rate", 1.0)
        .put(
            "variants",
            new JsonArray()
                .add(new JsonObject().put("model", "ctr").put("weight", 50))
                .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)));
  }
}
