package ai.distill.gateway.scale;

import static ai.distill.gateway.scale.TwoGatewaysKafkaTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Experiments made on one instance run on every instance sharing the broker: one created through
 * the admin API on one gateway, a canary generation started on the other, a stop, and an instance
 * started afterwards all agree on the definition, the generation and the counts (the definitions go
 * through the compacted {@code experiment-definitions} topic, a real in-process KRaft broker).
 */
class SharedDefinitionsKafkaTest {

  @TempDir static Path brokerDir;
  private static InProcessKafka kafka;

  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path dirC;

  private Vertx vertx;
  private final List<KafkaGateway> gateways = new ArrayList<>();

  @BeforeAll
  static void broker() throws Exception {
    kafka = InProcessKafka.start(brokerDir);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    kafka.close();
  }

  @AfterEach
  void stop() {
    gateways.forEach(KafkaGateway::close);
    if (vertx != null) {
      vertx.close().await();
    }
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  @Test
  void experiments_and_generations_made_on_one_instance_run_on_every_instance() throws Exception {
    vertx = TestGateways.strictVertx();
    KafkaConfig config =
        new KafkaConfig(kafka.bootstrap(), "d" + System.nanoTime(), 10_000, 1_000, null);
    KafkaGateway a = KafkaGateway.start(vertx, dirA, config, "a");
    gateways.add(a);
    KafkaGateway b = KafkaGateway.start(vertx, dirB, config, "b");
    gateways.add(b);

    // (1) created through the admin API on a only: b runs the same definition and generation
    long createdAt = System.nanoTime();
    a.createShared(KafkaGateway.experiment("ab"), b);
    long createMillis = (System.nanoTime() - createdAt) / 1_000_000;
    JsonObject first = a.get("/v1/experiments/ab");
    JsonArray listedOnB = b.get("/v1/experiments").getJsonArray("experiments");
    assertEquals(1, listedOnB.size());
    assertSameExperiment(first, listedOnB.getJsonObject(0));
    String gen1 = first.getString("generation");
    assertNotNull(gen1);

    // a user's requests alternately to a and b, feedback to the other instance
    Map<String, JsonObject> unanswered = new LinkedHashMap<>(); // gen-1 responses, no feedback yet
    String canaryVersion = null;
    for (int k = 0; k < 8; k++) {
      KafkaGateway served = k % 2 == 0 ? a : b;
      KafkaGateway other = k % 2 == 0 ? b : a;
      JsonObject r = served.infer("ab", "u" + k);
      assertEquals("joined", other.feedback(r.getString("id"), 1, 0));
      unanswered.put("u" + k, other.infer("ab", "u" + k));
      if ("ctr-int8".equals(variant(r))) {
        canaryVersion = r.getJsonObject("parameters").getString("model_version");
      }
    }
    awaitSameCounts(a, b, List.of(8L, 32L, 8L));
    assertNotNull(canaryVersion, "some user of 8 was served by the student");

    // (2) a canary of a new student version, published to the store and loaded on b only (as on
    // the instance whose optimizer job made it), started on b: the next generation, on a too
    long canary = publishStudent(dirA);
    assertEquals(canary, publishStudent(dirB));
    assertTrue(canary > Long.parseLong(canaryVersion));
    b.gateway.models().load("ctr-int8", canary, false).await();
    assertFalse(a.gateway.models().isLoaded("ctr-int8", canary));
    long canaryAt = System.nanoTime();
    b.experiments.service().addCanary("ab", "ctr", "ctr-int8", canary, 1);
    JsonObject second = b.get("/v1/experiments/ab");
    String gen2 = second.getString("generation");
    assertNotEquals(gen1, gen2);
    awaitTrue(() -> gen2.equals(a.get("/v1/experiments/ab").getString("generation")));
    // printed, not asserted: the admin call (published, acknowledged, read back) until the other
    // instance runs it
    System.out.printf(
        "definitions: created on a, running on b after %d ms; canary started on b (its model"
            + " loaded on a), running on a after %d ms%n",
        createMillis, (System.nanoTime() - canaryAt) / 1_000_000);
    assertSameExperiment(second, a.get("/v1/experiments/ab"));
    assertEquals(List.of(0L, 0L, 0L), sum(counts(a)), "the new generation counts afresh");
    assertEquals(2, second.getJsonArray("variants").size());
    assertEquals(99.0, second.getJsonArray("variants").getJsonObject(0).getDouble("weight"));
    assertEquals(
        String.valueOf(canary),
        second.getJsonArray("variants").getJsonObject(1).getString("version"));
    assertTrue(a.gateway.models().isLoaded("ctr-int8", canary), "a loaded the canary's version");
    for (Path dir : List.of(dirA, dirB)) {
      Path archived = dir.resolve("experiments/archive/ab-" + first.getLong("created") + ".json");
      assertTrue(Files.isRegularFile(archived), "the first generation archived: " + archived);
    }

    Map<String, String> secondVariant = new LinkedHashMap<>();
    for (int k = 0; k < 8; k++) {
      KafkaGateway served = k % 2 == 0 ? b : a;
      KafkaGateway other = k % 2 == 0 ? a : b;
      JsonObject r = served.infer("ab", "u" + k);
      secondVariant.put("u" + k, variant(r));
      assertEquals("joined", other.feedback(r.getString("id"), 1, 0));
    }
    // clicks on first-generation responses of users the second generation serves on the same
    // variant: joined, but they count in no generation
    int late = 0;
    for (Map.Entry<String, JsonObject> u : unanswered.entrySet()) {
      if (variant(u.getValue()).equals(secondVariant.get(u.getKey()))) {
        assertEquals("joined", a.feedback(u.getValue().getString("id"), 1, 1));
        // the same user again, after it (the same partition): counted once a has read past both
        assertEquals("joined", a.feedback(a.infer("ab", u.getKey()).getString("id"), 1, 0));
        late++;
      }
    }
    assertTrue(late > 0, "some user kept its variant across the generations");
    long impressions = 2L * (8 + late);
    long clicks = 8L + late;
    awaitTrue(
        () -> {
          List<Long> ta = sum(counts(a));
          List<Long> tb = sum(counts(b));
          return ta.get(1) >= impressions
              && tb.get(1) >= impressions
              && ta.get(2) >= clicks
              && tb.get(2) >= clicks;
        });
    awaitSameCounts(a, b, List.of(8L, impressions, clicks));

    // (3) stopped on a: stopped on b
    assertEquals(
        200,
        a.post("/admin/v1/experiments/ab/stop", new JsonObject(), KafkaGateway.TOKEN).statusCode());
    awaitTrue(() -> "stopped".equals(b.get("/v1/experiments/ab").getString("status")));

    // (4) an instance started afterwards gets the experiment, its decisions and counts from Kafka
    KafkaGateway c = KafkaGateway.start(vertx, dirC, config, "c");
    gateways.add(c);
    c.awaitExperiment("ab");
    JsonObject onC = c.get("/v1/experiments/ab");
    assertSameExperiment(second, onC);
    awaitTrue(() -> "stopped".equals(c.get("/v1/experiments/ab").getString("status")));
    awaitSameCounts(a, c, List.of(8L, impressions, clicks));
    assertEquals(counts(b), counts(c));
  }

  // another version of the student in the store at dir (the same bytes in each store)
  private static long publishStudent(Path dir) {
    return ModelStore.open(dir)
        .publish(
            PublishRequest.fromBytes(
                "ctr-int8",
                TinyModels.ctrModel(4, 3, 10, 2, new int[] {8}, 3).toBytes(),
                Role.STUDENT))
        .version();
  }

  private static void assertSameExperiment(JsonObject expected, JsonObject actual) {
    assertEquals(expected.getJsonObject("definition"), actual.getJsonObject("definition"));
    assertEquals(expected.getString("generation"), actual.getString("generation"));
    assertEquals(expected.getLong("created"), actual.getLong("created"));
  }

  private static String variant(JsonObject response) {
    return response.getJsonObject("parameters").getString("variant");
  }

  // both report the same per-variant counts, whose totals are {@code totals}
  private static void awaitSameCounts(KafkaGateway a, KafkaGateway b, List<Long> totals)
      throws InterruptedException {
    try {
      awaitTrue(() -> counts(a).equals(counts(b)) && sum(counts(a)).equals(totals));
    } catch (AssertionError e) {
      throw new AssertionError(
          "expected the totals " + totals + " on both: " + counts(a) + " vs " + counts(b), e);
    }
  }

  // exposures, impressions, clicks of each variant in the experiment's own statistics
  private static List<List<Long>> counts(KafkaGateway g) {
    List<List<Long>> out = new ArrayList<>();
    JsonArray variants = g.get("/v1/experiments/ab").getJsonArray("variants");
    for (Object o : variants) {
      JsonObject v = (JsonObject) o;
      out.add(List.of(v.getLong("exposures"), v.getLong("impressions"), v.getLong("clicks")));
    }
    return out;
  }

  private static List<Long> sum(List<List<Long>> counts) {
    long[] s = new long[3];
    for (List<Long> v : counts) {
      for (int i = 0; i < 3; i++) {
        s[i] += v.get(i);
      }
    }
    return List.of(s[0], s[1], s[2]);
  }
}
