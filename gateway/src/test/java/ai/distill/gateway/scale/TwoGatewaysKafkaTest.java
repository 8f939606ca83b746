package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobMetrics;
import ai.distill.gateway.jobs.JobRejectedException;
import ai.distill.gateway.jobs.JobRunner;
import ai.distill.gateway.jobs.JobService;
import ai.distill.gateway.jobs.JobSpec;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways sharing one real in-process KRaft broker: a user's requests go alternately to both,
 * feedback to the other instance, and both report identical experiment counts once their lag has
 * drained; feedback joined on both instances counts once; one instance at a time decides, and when
 * it dies the other takes over with the same counts and its decisions apply everywhere.
 */
class TwoGatewaysKafkaTest {

  @TempDir static Path brokerDir;
  private static InProcessKafka kafka;

  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path dirC;

  private Vertx vertx;
  private KafkaConfig config;
  private final List<KafkaGateway> gateways = new ArrayList<>();

  @BeforeAll
  static void broker() throws Exception {
    kafka = InProcessKafka.start(brokerDir);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    kafka.close();
  }

  @BeforeEach
  void start() throws Exception {
    vertx = TestGateways.strictVertx();
    // a short session: a killed decider is replaced within about a second
    config = new KafkaConfig(kafka.bootstrap(), "t" + System.nanoTime(), 10_000, 1_000, null);
    gateways.add(KafkaGateway.start(vertx, dirA, config, "a"));
    gateways.add(KafkaGateway.start(vertx, dirB, config, "b"));
  }

  @AfterEach
  void stop() {
    gateways.forEach(KafkaGateway::close);
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  @Test
  void both_instances_report_the_same_counts_once_the_lag_drains() throws Exception {
    gateways.get(0).createShared(KafkaGateway.experiment("ab"), gateways.get(1));
    // garbage on the topic (and an event of an unknown outcome) is skipped, not fatal
    try (KafkaProducer<String, String> garbage =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()),
            new StringSerializer(),
            new StringSerializer())) {
      String topic = config.topic(ScaleRoutes.EVENTS_TOPIC);
      garbage.send(new ProducerRecord<>(topic, "u0", "not an event")).get();
      garbage
          .send(
              new ProducerRecord<>(
                  topic,
                  "u0",
                  "{\"id\":\"x\",\"type\":\"impression\",\"experiment\":\"ab\","
                      + "\"variant\":0,\"outcome\":\"sideways\"}"))
          .get();
    }
    int requests = 12;
    for (int k = 0; k < requests; k++) {
      KafkaGateway served = gateways.get(k % 2);
      KafkaGateway other = gateways.get((k + 1) % 2);
      String id = served.infer("ab", "u" + (k % 4)).getString("id");
      assertEquals("joined", other.feedback(id, 1, 0));
      if (k == 0) {
        // the same feedback sent to the serving instance too: joined there as well, folded once
        assertEquals("joined", served.feedback(id, 1, 0));
      }
    }

    KafkaGateway a = gateways.get(0);
    KafkaGateway b = gateways.get(1);
    awaitTrue(
        () -> {
          JsonObject va = a.get("/v1/scale/experiments/ab");
          JsonObject vb = b.get("/v1/scale/experiments/ab");
          return totals(va)[1] == 2L * requests
              && totals(va)[2] == requests
              && va.getLong("lag_records") == 0
              && vb.getLong("lag_records") == 0
              && va.getJsonArray("variants").equals(vb.getJsonArray("variants"));
        });
    JsonObject va = a.get("/v1/scale/experiments/ab");
    assertEquals(
        va.getJsonArray("variants"),
        b.get("/v1/scale/experiments/ab").getJsonArray("variants"),
        "identical counts");
    long[] t = totals(va);
    assertEquals(List.of(4L, 2L * requests, (long) requests), List.of(t[0], t[1], t[2]));
    // the experiments themselves count the same shared facts: their statistics agree too
    assertEquals(counts(a), counts(b));
    assertEquals(List.of(4L, 2L * requests, (long) requests), sum(counts(a)));

    String metrics = b.metrics();
    assertTrue(metrics.contains("distill_kafka_consumer_lag_records 0.0"), metrics);
    assertTrue(
        metrics.contains("distill_kafka_events_folded_total{outcome=\"duplicate\"} 1.0"), metrics);
    assertTrue(
        metrics.contains("distill_kafka_events_folded_total{outcome=\"invalid\"} 2.0"), metrics);
  }

  @Test
  void when_the_deciding_instance_dies_the_other_takes_over_and_its_decisions_apply_everywhere()
      throws Exception {
    // teacher users click every row, student users none: the student is inferior, and is rolled
    // back as soon as there is enough evidence
    JsonObject def = KafkaGateway.experiment("ab").put("planned_users", 40);
    gateways.get(0).createShared(def, gateways.get(1));
    awaitTrue(() -> deciders() == 1);
    int d = gateways.get(0).scale.isDecider() ? 0 : 1;
    KafkaGateway decider = gateways.get(d);
    KafkaGateway other = gateways.get(1 - d);

    serve(decider, other, 0, 6); // too few users for any decision
    awaitTrue(() -> counts(decider).equals(counts(other)) && sum(counts(other)).get(0) == 6L);
    List<List<Long>> before = counts(decider);
    assertEquals("running", other.get("/v1/experiments/ab").getString("status"));

    gateways.remove(decider);
    decider.kill(); // no LeaveGroup: the group notices only when the session times out
    awaitTrue(() -> other.scale.isDecider());
    assertEquals(before, counts(other), "the new decider holds the same counts");

    // the killed instance comes back (another store, as on another machine): it folds the topics
    KafkaGateway back = KafkaGateway.start(vertx, dirC, config, "c");
    gateways.add(back);
    back.awaitExperiment("ab"); // from the definitions topic
    awaitTrue(() -> counts(back).equals(before));
    assertEquals(false, back.scale.isDecider(), "the decider keeps its partition (sticky)");

    serve(other, back, 6, 200);
    awaitTrue(
        () ->
            !"running".equals(other.get("/v1/experiments/ab").getString("status"))
                && !"running".equals(back.get("/v1/experiments/ab").getString("status")));
    JsonObject onOther = other.get("/v1/experiments/ab");
    JsonObject onBack = back.get("/v1/experiments/ab");
    assertEquals("rolled_back", onOther.getString("status"), onOther.encodePrettily());
    assertEquals("rolled_back", onBack.getString("status"));
    assertEquals(lastDecision(onOther), lastDecision(onBack), "the same decision on both");
    assertEquals("rollback", lastDecision(onBack).getString("action"));
    assertEquals(0.0, onBack.getJsonArray("variants").getJsonObject(1).getDouble("weight"));
    assertTrue(
        other
            .metrics()
            .contains("distill_kafka_records_total{kind=\"decision\",outcome=\"published\"}"),
        "the decider published its decision");
    assertTrue(
        !back.metrics().contains("kind=\"decision\",outcome=\"published\""),
        "the other instance decided nothing itself");
  }

  @Test
  void rows_captured_by_both_instances_are_read_back_from_the_topic_by_a_job() throws Exception {
    gateways
        .get(0)
        .createShared(KafkaGateway.experiment("ab").put("capture_rate", 1.0), gateways.get(1));
    Set<String> served = new HashSet<>();
    for (int k = 0; k < 6; k++) {
      KafkaGateway g = gateways.get(k % 2);
      String id = g.infer("ab", "u" + k).getString("id");
      served.add(id);
      assertEquals("joined", g.feedback(id, 1, 0)); // labelled: the row is written at once
    }
    String topic = config.topic(ScaleRoutes.CAPTURES_TOPIC);
    awaitTrue(() -> published(gateways.get(0)) + published(gateways.get(1)) == 12);

    // a job whose rows are the topic reads a frozen copy of it (both instances' rows)
    List<JobRunner.Task> started = new ArrayList<>();
    JobService jobs =
        new JobService(
            ModelStore.open(dirA),
            JobsConfig.DEFAULT,
            new JobRunner() {
              @Override
              public Execution start(Task task, Listener listener) {
                started.add(task);
                return () -> listener.cancelled("read");
              }

              @Override
              public void close() {}
            },
            CanaryHook.NONE,
            JobMetrics.register(new PrometheusRegistry()),
            Clock.systemUTC());
    jobs.start();
    jobs.externalRows(gateways.get(0).scale.externalRows());
    JsonObject job =
        new JsonObject()
            .put("source", "ctr")
            .put("action", "quantize")
            .put("name", "ctr-q")
            .put("rows", "kafka://" + topic)
            .put("options", new JsonObject().put("min-rows", 12));
    String first = jobs.submit(JobSpec.fromJson(job)).id();
    List<String> args = started.get(0).arguments();
    Path data = Path.of(args.get(args.indexOf("--data") + 1));
    List<String> lines = Files.readAllLines(data);
    assertEquals(12, lines.size(), "2 rows for each of 6 requests");
    Set<String> ids = new HashSet<>();
    for (String line : lines) {
      JsonObject row = new JsonObject(line);
      ids.add(row.getString("id"));
      assertEquals(
          Set.of("dense", "sparse"),
          row.getJsonObject("inputs").fieldNames(),
          "the rows format: " + line);
    }
    assertEquals(served, ids, "the rows of both instances");
    JobRejectedException tooFew =
        assertThrows(
            JobRejectedException.class,
            () ->
                jobs.submit(
                    JobSpec.fromJson(
                        job.copy()
                            .put("name", "ctr-q2")
                            .put("options", new JsonObject().put("min-rows", 13)))));
    assertTrue(tooFew.getMessage().contains("12 captured rows"), tooFew.getMessage());

    // "rows": "capture:ab" reads the stream's records from the topic (not the store's files)
    jobs.cancel(first); // one job per source at a time
    jobs.submit(JobSpec.fromJson(job.copy().put("name", "ctr-q3").put("rows", "capture:ab")));
    List<String> captureArgs = started.get(started.size() - 1).arguments();
    assertEquals(
        lines,
        Files.readAllLines(Path.of(captureArgs.get(captureArgs.indexOf("--data") + 1))),
        "the capture stream of the experiment, from the topic");

    // the CLI's --data kafka://host:port/topic reads the same rows
    String[] resolved =
        KafkaRows.resolveDataArgs(
            new String[] {"quantize", "--data", "kafka://" + kafka.bootstrap() + "/" + topic});
    assertEquals(lines, Files.readAllLines(Path.of(resolved[2])));
    jobs.close();
  }

  private static long published(KafkaGateway g) {
    return g.scale.metrics().records("capture", "published");
  }

  // users [from, to): requests alternately to a and b, teacher users click both rows
  private static void serve(KafkaGateway a, KafkaGateway b, int from, int to) {
    for (int u = from; u < to; u++) {
      KafkaGateway served = u % 2 == 0 ? a : b;
      KafkaGateway other = u % 2 == 0 ? b : a;
      JsonObject r = served.infer("ab", "user-" + u);
      boolean teacher = "ctr".equals(r.getJsonObject("parameters").getString("variant"));
      assertEquals("joined", other.feedback(r.getString("id"), teacher ? 1 : 0, teacher ? 1 : 0));
      if (!"running".equals(a.get("/v1/experiments/ab").getString("status"))) {
        return;
      }
    }
  }

  private int deciders() {
    int n = 0;
    for (KafkaGateway g : gateways) {
      n += g.get("/v1/scale/status").getBoolean("decider") ? 1 : 0;
    }
    return n;
  }

  // exposures, impressions, clicks of each variant in the experiment's own statistics
  private static List<List<Long>> counts(KafkaGateway g) {
    List<List<Long>> out = new ArrayList<>();
    for (Object o : g.get("/v1/experiments/ab").getJsonArray("variants")) {
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

  private static JsonObject lastDecision(JsonObject view) {
    JsonArray h = view.getJsonArray("history");
    return h.getJsonObject(h.size() - 1);
  }

  // exposures, impressions, clicks over all variants of the folded summary
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

  static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "condition not met within 60 s");
      Thread.sleep(100);
    }
  }
}
