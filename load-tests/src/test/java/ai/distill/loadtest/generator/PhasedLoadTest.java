package ai.distill.loadtest.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.FakeOipServer;
import ai.distill.loadtest.generator.PhasedLoad.Phase;
import ai.distill.loadtest.oip.GatewayClient;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.SpikeScenario;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PhasedLoadTest {
  static Vertx vertx;
  static FakeOipServer server;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = new FakeOipServer(vertx, "ctr").start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void each_phase_sends_its_own_rate_and_buckets_cover_the_run() throws Exception {
    try (GatewayClient client = GatewayClient.create(vertx, URI.create(server.url()), 8, 1024, Duration.ofSeconds(10))) {
      RequestBodies bodies = RequestBodies.encode(client.metadata("ctr"), List.of(CoordinatedOmissionTest.row()), 1, false, 1);
      PhasedLoad load = new PhasedLoad(client.inferSender("ctr", bodies, false), 1024, Duration.ofSeconds(10), Duration.ofMillis(250));
      PhasedLoad.Result r = load.run(List.of(new Phase("before", 100, Duration.ofMillis(500)),
          new Phase("spike", 400, Duration.ofMillis(500)), new Phase("after", 100, Duration.ofMillis(500))));
      assertEquals(50, r.phase("before").sent());
      assertEquals(200, r.phase("spike").sent());
      assertEquals(50, r.phase("after").sent());
      assertEquals(6, r.buckets().size());
      assertEquals(2, r.firstBucket("spike"));
      assertEquals(4, r.firstBucket("after"));
      assertEquals(100, r.buckets().get(2).sent() + r.buckets().get(2).clientSaturated());
    }
  }

  @Test
  void spike_counts_429s_apart_from_5xx_and_times_recovery() throws Exception {
    server.limitInFlight(4);
    try (GatewayTarget target = GatewayTarget.open(vertx, new GatewayTarget.Spec(URI.create(server.url()), "ctr", null, 64, 1, 1,
        false, 64, 1024, Duration.ofSeconds(10)))) {
      BenchmarkResult result = new BenchmarkResult("spike");
      // Hold every request arriving in the first 300 ms of the spike: in-flight piles up and the rest get 429.
      server.scheduleStall(Duration.ofMillis(1 + 1000), Duration.ofMillis(300));
      SpikeScenario.run(target, 100, 400, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(2), 1024,
          Duration.ofSeconds(10), result);
      assertTrue(result.figures().get("spike: 429 responses") > 0, result.figures().toString());
      assertEquals(0.0, result.figures().get("spike: 5xx responses"));
      assertTrue(result.checks().get(0).passed(), result.checks().toString());
      assertEquals("zero 5xx during the spike", result.checks().get(0).name());
      assertEquals(3, result.group("spike").size());
    } finally {
      server.limitInFlight(Integer.MAX_VALUE);
    }
  }

  @Test
  void recovery_is_the_start_of_the_first_healthy_stretch() {
    List<WindowResult> buckets = new ArrayList<>();
    buckets.add(bucket(0, 1.0));
    buckets.add(bucket(3, 50.0));
    buckets.add(bucket(0, 40.0));
    buckets.add(bucket(0, 1.2));
    buckets.add(bucket(0, 1.1));
    buckets.add(bucket(0, 1.0));
    PhasedLoad.Result r = new PhasedLoad.Result(List.of(new Phase("a", 1, Duration.ofMillis(1500))), List.of(),
        Duration.ofMillis(250), buckets);
    assertEquals(0.5, PhasedLoad.recoverySeconds(r, 1, 3, 3.0), 1e-9);
    assertEquals(-1, PhasedLoad.recoverySeconds(r, 1, 3, 1.05), 1e-9);
  }

  static WindowResult bucket(long errors, double p99Ms) {
    Histogram h = new Histogram(60_000_000L, 3);
    h.recordValueWithCount((long) (p99Ms * 1000), 10);
    Map<String, Long> outcomes = errors > 0 ? Map.of("200", 10L, "429", errors) : Map.of("200", 10L);
    return new WindowResult(0, 0.25, 10 + errors, 0, 10, 10, 1, outcomes, h, h.copy());
  }
}
