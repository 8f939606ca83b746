package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.testing.TestGateways;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker stops in the middle of a run and comes back: inference keeps answering (events beyond
 * the small buffer are dropped and counted, never waited for), and once the broker is back events
 * flow again and both instances fold the same counts. Latencies before, during and after are
 * printed, not asserted.
 */
class BrokerOutageKafkaTest {

  @TempDir Path brokerDir;
  @TempDir Path dirA;
  @TempDir Path dirB;

  private InProcessKafka kafka;
  private Vertx vertx;
  private final List<KafkaGateway> gateways = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    gateways.forEach(KafkaGateway::close);
    if (vertx != null) {
      vertx.close().await();
    }
    if (kafka != null) {
      kafka.close();
    }
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  @Test
  void inference_keeps_answering_while_the_broker_is_down_and_events_flow_again_after()
      throws Exception {
    kafka = InProcessKafka.start(brokerDir);
    vertx = TestGateways.strictVertx();
    KafkaConfig config = new KafkaConfig(kafka.bootstrap(), "outage", 40, 1_000, null);
    gateways.add(KafkaGateway.start(vertx, dirA, config, "a"));
    gateways.add(KafkaGateway.start(vertx, dirB, config, "b"));
    gateways.get(0).createShared(KafkaGateway.experiment("ab"), gateways.get(1));
    KafkaGateway a = gateways.get(0);
    KafkaGateway b = gateways.get(1);
    int n = 100;

    long[] before = run(a, b, "before", n);
    awaitImpressions(a, b, 2L * n);

    kafka.stopBroker();
    long[] during = run(a, b, "during", n);
    long dropped =
        a.scale.metrics().records("event", "dropped")
            + b.scale.metrics().records("event", "dropped");
    assertTrue(dropped > 0, "beyond the buffer of 40 events per instance, events are dropped");

    kafka.startBroker();
    assertEquals(config.bootstrap(), kafka.bootstrap(), "the broker is back at its address");
    // what waited for the broker is delivered, so the buffer has room again
    TwoGatewaysKafkaTest.awaitTrue(
        () ->
            a.get("/v1/scale/status").getLong("buffered_records") == 0
                && b.get("/v1/scale/status").getLong("buffered_records") == 0);
    long[] after = run(a, b, "after", n);
    // every event of the 'after' requests arrives; of the outage's, those that were buffered
    awaitImpressions(a, b, 2L * (2 * n));
    TwoGatewaysKafkaTest.awaitTrue(
        () ->
            a.get("/v1/scale/experiments/ab")
                .getJsonArray("variants")
                .equals(b.get("/v1/scale/experiments/ab").getJsonArray("variants")));
    System.out.printf(
        "broker outage, latency ms (min / p50 / p99 / max) before %s, during %s, after %s;"
            + " events dropped during the outage: %d%n",
        ms(before), ms(during), ms(after), dropped);
  }

  // n requests alternately to a and b, feedback to the other; every one answers 200
  private static long[] run(KafkaGateway a, KafkaGateway b, String phase, int n) {
    long[] nanos = new long[n];
    for (int k = 0; k < n; k++) {
      KafkaGateway served = k % 2 == 0 ? a : b;
      long t0 = System.nanoTime();
      JsonObject r = served.infer("ab", phase + "-u" + (k % 10));
      nanos[k] = System.nanoTime() - t0;
      assertEquals("joined", (k % 2 == 0 ? b : a).feedback(r.getString("id"), 1, 0));
    }
    Arrays.sort(nanos);
    return nanos;
  }

  // waits until both instances folded at least this many impressions (2 rows per request)
  private static void awaitImpressions(KafkaGateway a, KafkaGateway b, long rows)
      throws InterruptedException {
    TwoGatewaysKafkaTest.awaitTrue(() -> impressions(a) >= rows && impressions(b) >= rows);
  }

  private static long impressions(KafkaGateway g) {
    long n = 0;
    for (Object o : g.get("/v1/scale/experiments/ab").getJsonArray("variants")) {
      n += ((JsonObject) o).getLong("impressions");
    }
    return n;
  }

  private static String ms(long[] sorted) {
    return String.format(
        "%.1f / %.1f / %.1f / %.1f",
        sorted[0] / 1e6,
        sorted[sorted.length / 2] / 1e6,
        sorted[(int) (sorted.length * 0.99)] / 1e6,
        sorted[sorted.length - 1] / 1e6);
  }
}
