package ai.distill.loadtest.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.FakeOipServer;
import ai.distill.loadtest.generator.PhasedLoad.Phase;
import ai.distill.loadtest.oip.GatewayClient;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
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
    try (GatewayClient client =
        GatewayClient.create(vertx, URI.create(server.url()), 8, 1024, Duration.ofSeconds(10))) {
      RequestBodies bodies =
          RequestBodies.encode(
              client.metadata("ctr"), List.of(CoordinatedOmissionTest.row()), 1, false, 1);
      PhasedLoad load =
          new PhasedLoad(
              client.inferSender("ctr", bodies, false),
              1024,
              Duration.ofSeconds(10),
              Duration.ofMillis(250));
      PhasedLoad.Result r =
          load.run(
              List.of(
                  new Phase("before", 100, Duration.ofMillis(500)),
                  new Phase("spike", 400, Duration.ofMillis(500)),
                  new Phase("after", 100, Duration.ofMillis(500))));
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
  void spike_counts_429s_apart_from_5xx_and_times_recovery() {
    // Virtual time: the gateway admits 4 requests at once and holds every request arriving in the
    // first 300 ms of the spike, so at 400 req/s the 120 requests of those 300 ms are 4 held + 116
    // rejected, and the next one is rejected too (the held four are still being answered): 117.
    SimulatedGateway gateway =
        new SimulatedGateway(64, Duration.ofMillis(1))
            .limitInFlight(4, 429)
            .stall(Duration.ofMillis(1 + 1000), Duration.ofMillis(300));
    BenchmarkResult result = spike(gateway);

    assertEquals(117.0, result.figures().get("spike: 429 responses"), result.figures().toString());
    assertEquals(0.0, result.figures().get("spike: 5xx responses"));
    assertEquals("zero 5xx during the spike", result.checks().get(0).name());
    assertTrue(result.checks().get(0).passed(), result.checks().toString());
    assertTrue(
        result.checks().get(0).detail().startsWith("429×117, 5xx×0, transport errors×0"),
        result.checks().get(0).detail());
    assertEquals(
        0.0,
        result.figures().get("spike: recovery time (s)"),
        "healthy from the after phase's first bucket");
    assertTrue(result.checks().get(1).passed(), result.checks().toString());
    assertEquals(3, result.group("spike").size());
    assertEquals(
        117, result.group("spike").get(1).count("429"), "the 429s belong to the spike phase");
    assertEquals(0, result.group("spike").get(0).errors() + result.group("spike").get(2).errors());
  }

  @Test
  void spike_answered_with_503_fails_the_zero_5xx_check() {
    SimulatedGateway gateway =
        new SimulatedGateway(64, Duration.ofMillis(1))
            .limitInFlight(4, 503)
            .stall(Duration.ofMillis(1 + 1000), Duration.ofMillis(300));
    BenchmarkResult result = spike(gateway);

    assertEquals(0.0, result.figures().get("spike: 429 responses"));
    assertEquals(117.0, result.figures().get("spike: 5xx responses"));
    assertFalse(result.checks().get(0).passed(), result.checks().toString());
  }

  @Test
  void a_spike_that_never_settles_fails_the_recovery_check() {
    // The stall outlasts the run: every after-phase request is late, so no bucket is healthy.
    SimulatedGateway gateway =
        new SimulatedGateway(64, Duration.ofMillis(1))
            .stall(Duration.ofMillis(1 + 1000), Duration.ofMillis(5000));
    BenchmarkResult result = spike(gateway);

    assertEquals(-1.0, result.figures().get("spike: recovery time (s)"));
    assertFalse(result.checks().get(1).passed(), result.checks().toString());
  }

  @Test
  void spike_scenario_runs_against_an_http_server() throws Exception {
    try (GatewayTarget target =
        GatewayTarget.open(
            vertx,
            new GatewayTarget.Spec(
                URI.create(server.url()),
                "ctr",
                null,
                64,
                1,
                1,
                false,
                64,
                1024,
                Duration.ofSeconds(10)))) {
      BenchmarkResult result = new BenchmarkResult("spike");
      SpikeScenario.run(
          target,
          50,
          100,
          Duration.ofMillis(500),
          Duration.ofMillis(500),
          Duration.ofMillis(500),
          1024,
          Duration.ofSeconds(10),
          result);
      // Only counts: the fake server never rejects, and every scheduled request is accounted for.
      assertEquals(0.0, result.figures().get("spike: 429 responses"));
      assertEquals(0.0, result.figures().get("spike: 5xx responses"));
      assertTrue(result.checks().get(0).passed(), result.checks().toString());
      assertEquals(
          List.of(25L, 50L, 25L),
          result.group("spike").stream().map(m -> m.sent() + m.clientSaturated()).toList());
    }
  }

  /**
   * 1 s at 100 req/s, 1 s at 400 req/s, 2 s at 100 req/s against {@code gateway}, summarized as the
   * spike scenario does.
   */
  static BenchmarkResult spike(SimulatedGateway gateway) {
    List<Phase> phases =
        List.of(
            new Phase("before", 100, Duration.ofSeconds(1)),
            new Phase("spike", 400, Duration.ofSeconds(1)),
            new Phase("after", 100, Duration.ofSeconds(2)));
    PhasedLoad.Result r =
        new PhasedLoad(gateway, 1024, Duration.ofSeconds(10), SpikeScenario.BUCKET, gateway)
            .run(phases);
    WindowResult merged = WindowResult.merge(r.perPhase());
    Measurement whole =
        Measurement.of(
            "spike",
            "gateway",
            "ctr",
            new RunResult("open", 400, r.perPhase(), true, merged),
            null);
    BenchmarkResult result = new BenchmarkResult("spike");
    SpikeScenario.summarize("ctr", r, whole, result);
    return result;
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
    PhasedLoad.Result r =
        new PhasedLoad.Result(
            List.of(new Phase("a", 1, Duration.ofMillis(1500))),
            List.of(),
            Duration.ofMillis(250),
            buckets);
    assertEquals(0.5, PhasedLoad.recoverySeconds(r, 1, 3, 3.0), 1e-9);
    assertEquals(-1, PhasedLoad.recoverySeconds(r, 1, 3, 1.05), 1e-9);
  }

  static WindowResult bucket(long errors, double p99Ms) {
    Histogram h = new Histogram(60_000_000L, 3);
    h.recordValueWithCount((long) (p99Ms * 1000), 10);
    Map<String, Long> outcomes =
        errors > 0 ? Map.of("200", 10L, "429", errors) : Map.of("200", 10L);
    return new WindowResult(0, 0.25, 10 + errors, 0, 10, 10, 1, outcomes, h, h.copy());
  }
}
