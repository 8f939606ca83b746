package ai.distill.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short runs (a second or two, a few hundred requests) against a real gateway started in the test.
 */
class GatewaySmokeTest {
  @TempDir static Path dir;
  static Path store;
  static Vertx vertx;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    store = dir.resolve("store");
    ModelStore.open(store)
        .publish(
            PublishRequest.fromBytes(
                "ctr",
                TinyModels.ctrModel(13, 26, 1000, 4, new int[] {16}, 7).toBytes(),
                Role.TEACHER));
    vertx = Vertx.vertx();
    gateway =
        Gateway.start(
                vertx,
                GatewayConfig.builder(store)
                    .host("127.0.0.1")
                    .port(0)
                    .workers(1)
                    .watchInterval(Duration.ofMillis(200))
                    .build())
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void open_loop_run_gets_every_request_answered_and_reads_the_server_split() {
    try (GatewayTarget target = GatewayTarget.open(vertx, spec("ctr", null, 8))) {
      LoadOptions options = oneWindow();
      Measurement m =
          target.measure(
              "steady", () -> new OpenLoopGenerator(target.sender(false), options).run(200));
      assertEquals(200, m.sent() + m.clientSaturated());
      assertEquals(Map.of("200", m.sent()), m.outcomes());
      assertEquals(8 * m.throughput(), m.rowsPerSecond(), 1e-9);
      assertTrue(m.latency().p99() >= m.latency().p50());
      assertTrue(
          m.server() != null && m.server().available(), "server split scraped from /metrics");
      assertFalse(Double.isNaN(m.server().computeMs()), "compute histogram found");
      assertFalse(Double.isNaN(m.server().queueMs()), "queue histogram found");
      // The gateway observes a request just after response.end(): the scrape may race the last
      // response per connection (8).
      assertTrue(
          m.server().requests() >= m.sent() - 8,
          "request histogram counted the run: " + m.server().requests());
    }
  }

  @Test
  void binary_tensor_extension_requests_are_answered_too() {
    GatewayTarget.Spec binary =
        new GatewayTarget.Spec(
            URI.create("http://127.0.0.1:" + gateway.port()),
            "ctr",
            null,
            256,
            1,
            4,
            true,
            8,
            256,
            Duration.ofSeconds(10));
    try (GatewayTarget target = GatewayTarget.open(vertx, binary)) {
      LoadOptions options = oneWindow();
      Measurement m =
          target.measure(
              "steady", () -> new OpenLoopGenerator(target.sender(false), options).run(100));
      assertEquals(Map.of("200", m.sent()), m.outcomes());
    }
  }

  @Test
  void unknown_model_is_reported_before_any_load() {
    LoadTestException e =
        assertThrows(
            LoadTestException.class, () -> GatewayTarget.open(vertx, spec("nope", null, 1)));
    assertTrue(
        e.getMessage()
            .startsWith(
                "unknown model 'nope': the gateway at http://127.0.0.1:"
                    + gateway.port()
                    + " answered 404"),
        e.getMessage());
  }

  @Test
  void rows_that_do_not_fit_the_model_are_rejected_before_any_load() throws Exception {
    Path rows = dir.resolve("short.jsonl");
    Files.writeString(rows, "{\"inputs\": {\"dense\": [1, 2, 3], \"sparse\": [0, 7]}}\n");
    LoadTestException e =
        assertThrows(
            LoadTestException.class, () -> GatewayTarget.open(vertx, spec("ctr", rows, 1)));
    assertEquals(
        "row 1 input 'dense' has 3 values but model 'ctr' expects 13 per row (shape [-1, 13])",
        e.getMessage());
  }

  @Test
  void hot_swap_under_load_has_zero_failed_requests_and_switches_version() {
    try (GatewayTarget target = GatewayTarget.open(vertx, spec("ctr", null, 4))) {
      BenchmarkResult result = new BenchmarkResult("hot swap");
      // 6 one-second windows, the publish after 3: the gateway's watcher (200 ms) and the load of a
      // tiny
      // model get 3 s to switch, ample even on a saturated machine.
      HotSwapScenario.run(
          target,
          store,
          null,
          100,
          6,
          LoadOptions.DEFAULT.withWarmup(Duration.ofMillis(300)),
          result);
      assertTrue(result.passed(), () -> result.checks().toString());
      assertEquals(3, result.checks().size());
      assertTrue(result.checks().get(2).detail().contains("2="), result.checks().get(2).detail());
    }
  }

  @Test
  void in_process_baseline_runs_the_same_model_and_is_printed_next_to_the_offered_load() {
    try (GatewayTarget target = GatewayTarget.open(vertx, spec("ctr", null, 16))) {
      BenchmarkResult result = new BenchmarkResult("compare");
      LoadOptions options = oneWindow();
      Measurement g =
          target.measure(
              "steady", () -> new OpenLoopGenerator(target.sender(false), options).run(100));
      Path file = BaselineComparison.modelFile(null, store, "ctr");
      Measurement b =
          BaselineComparison.measure(
              file, "ctr", target.rows(), 16, 1, 1, options, "baseline", result);
      BaselineComparison.compare(g, BaselineComparison.measuredCapacity(g, false), g, b, result);
      assertEquals("in-process", b.target());
      assertTrue(b.rowsPerSecond() > 0 && b.latency().count() > 0);
      // An open-loop run at 100 req/s is not the gateway's capacity: no ratio, the two rates side
      // by side.
      assertFalse(result.figures().containsKey(BaselineComparison.ROWS_RATIO));
      assertEquals(g.rowsPerSecond(), result.figures().get(BaselineComparison.ACHIEVED_ROWS), 1e-9);
      assertEquals(
          b.rowsPerSecond(), result.figures().get(BaselineComparison.IN_PROCESS_CAPACITY), 1e-9);
      assertTrue(result.figures().containsKey(BaselineComparison.P99_GAP));
    }
  }

  static LoadOptions oneWindow() {
    return LoadOptions.DEFAULT
        .withWarmup(Duration.ofMillis(300))
        .withWindow(Duration.ofSeconds(1))
        .withStability(new StabilityRule(1, 1000, 1));
  }

  static GatewayTarget.Spec spec(String model, Path rows, int rowsPerRequest) {
    return new GatewayTarget.Spec(
        URI.create("http://127.0.0.1:" + gateway.port()),
        model,
        rows,
        256,
        1,
        rowsPerRequest,
        false,
        8,
        256,
        Duration.ofSeconds(10));
  }
}
