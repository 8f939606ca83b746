package ai.distill.loadtest.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.FakeOipServer;
import ai.distill.loadtest.oip.GatewayClient;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.RequestBodies;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A gateway stalls once for {@link #STALL}: the open-loop (intended-start) histogram must show the
 * stall in the requests that should have been sent during it; the views measured from the actual
 * send (open loop's uncorrected histogram, closed loop) must not. The stall tests run against a
 * {@link SimulatedGateway} in virtual time, so their counts are the same on an idle and on a
 * saturated machine; one test drives a real HTTP server and asserts only counts.
 */
class CoordinatedOmissionTest {
  static final Duration STALL = Duration.ofMillis(400);
  static final Duration SERVICE = Duration.ofMillis(1);
  static final int CONNECTIONS = 4;
  static final long HALF_STALL_MICROS = STALL.toMillis() / 2 * 1000;
  static Vertx vertx;
  static FakeOipServer server;
  static GatewayClient client;
  static RequestBodies bodies;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = new FakeOipServer(vertx, "ctr").start();
    client =
        GatewayClient.create(
            vertx, URI.create(server.url()), CONNECTIONS, 4096, Duration.ofSeconds(10));
    bodies = RequestBodies.encode(client.metadata("ctr"), List.of(row()), 1, false, 1);
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  /**
   * The generator sends itself at each time, or hands sends over ahead to a sender that schedules
   * them.
   */
  static SimulatedGateway simulated(boolean scheduling) {
    SimulatedGateway gateway = new SimulatedGateway(CONNECTIONS, SERVICE);
    return scheduling ? gateway.scheduling() : gateway;
  }

  @ParameterizedTest(name = "scheduling sender: {0}")
  @ValueSource(booleans = {false, true})
  void open_loop_latency_from_intended_start_shows_the_stall_for_every_request_it_delayed(
      boolean scheduling) {
    // 500 req/s, 2 ms apart; the stall starts 200 ms into the window (1 ms lead + 200 ms warm-up +
    // 200 ms).
    SimulatedGateway gateway = simulated(scheduling).stall(Duration.ofMillis(1 + 200 + 200), STALL);
    RunResult run =
        new OpenLoopGenerator(gateway, oneWindow(Duration.ofSeconds(1)), gateway).run(500);

    WindowResult w = run.measured();
    assertEquals(500, w.sent());
    assertEquals(Map.of("200", 500L), w.outcomes());
    assertEquals(
        scheduling ? 100 + 500 : 0,
        gateway.scheduledSends(),
        "warm-up and window sends handed over ahead");
    long correctedSlow = countAtOrAbove(w.corrected(), HALF_STALL_MICROS);
    long uncorrectedSlow = countAtOrAbove(w.uncorrected(), HALF_STALL_MICROS);
    // The 100 requests intended in the stall's first half (rate × stall/2) each waited >= stall/2
    // from their
    // intended start, a few more because the backlog drains through 4 connections; at most the 200
    // intended in the stall.
    assertTrue(
        correctedSlow >= 100 && correctedSlow <= 200,
        "corrected requests >= stall/2: " + correctedSlow);
    // Measured from the actual send, only the requests already on a connection saw the stall.
    assertEquals(CONNECTIONS, uncorrectedSlow, "uncorrected requests >= stall/2");
    assertTrue(
        w.corrected().getValueAtPercentile(90) >= HALF_STALL_MICROS,
        "corrected p90 reflects the stall");
    assertTrue(
        w.uncorrected().getValueAtPercentile(90) < HALF_STALL_MICROS,
        "uncorrected p90 hides the stall");
    assertTrue(
        w.corrected().getMaxValue() >= STALL.toMillis() * 1000,
        "the first stalled request waited the whole stall");
    // The client's share: requests scheduled in the stall waited for one of the 4 stuck
    // connections.
    assertEquals(w.okRequests(), w.sendDelay().getTotalCount());
    assertTrue(
        w.sendDelay().getMaxValue() >= HALF_STALL_MICROS,
        "send delay max: " + w.sendDelay().getMaxValue());
  }

  @ParameterizedTest(name = "scheduling sender: {0}")
  @ValueSource(booleans = {false, true})
  void a_client_that_keeps_its_schedule_has_no_send_delay(boolean scheduling) {
    SimulatedGateway gateway = simulated(scheduling);
    WindowResult w =
        new OpenLoopGenerator(gateway, oneWindow(Duration.ofMillis(500)), gateway)
            .run(500)
            .measured();
    assertEquals(250, w.sendDelay().getTotalCount());
    assertEquals(0, w.sendDelay().getMaxValue());
    assertEquals(SERVICE.toNanos() / 1000, w.corrected().getValueAtPercentile(99), 1.0);
  }

  @Test
  void closed_loop_view_hides_the_stall_behind_a_handful_of_slow_requests() {
    SimulatedGateway gateway =
        new SimulatedGateway(CONNECTIONS, SERVICE).stall(Duration.ofMillis(1 + 200 + 200), STALL);
    RunResult run =
        new ClosedLoopGenerator(gateway, oneWindow(Duration.ofSeconds(1)), gateway)
            .run(CONNECTIONS);

    WindowResult w = run.measured();
    assertEquals("closed", run.mode());
    assertEquals(0, w.errors());
    // Each virtual user was stuck in one request during the stall and sent nothing else.
    assertEquals(
        CONNECTIONS,
        countAtOrAbove(w.corrected(), HALF_STALL_MICROS),
        "closed-loop requests >= stall/2");
    assertTrue(
        w.corrected().getValueAtPercentile(90) < HALF_STALL_MICROS, "p90 does not see the stall");
    // 600 ms of 1 ms requests on 4 users, not 1000 ms: the stall shows up only as missing requests.
    long expectedWithoutStall = CONNECTIONS * 1000L;
    assertTrue(w.okRequests() < expectedWithoutStall * 0.7, "requests sent: " + w.okRequests());
    assertTrue(w.okRequests() > expectedWithoutStall * 0.5, "requests sent: " + w.okRequests());
  }

  @ParameterizedTest(name = "scheduling sender: {0}")
  @ValueSource(booleans = {false, true})
  void scheduled_requests_beyond_the_outstanding_bound_count_as_client_saturation_not_a_queue(
      boolean scheduling) {
    LoadOptions options =
        oneWindow(Duration.ofMillis(500)).withWarmup(Duration.ZERO).withMaxOutstanding(2);
    SimulatedGateway gateway = simulated(scheduling).stall(Duration.ZERO, Duration.ofMillis(1500));
    RunResult run = new OpenLoopGenerator(gateway, options, gateway).run(200);

    WindowResult w = run.measured();
    assertEquals(2, w.sent());
    assertEquals(98, w.clientSaturated());
    assertEquals(2, w.okRequests());
  }

  @Test
  void open_loop_sends_exactly_the_scheduled_requests_and_counts_outcomes() {
    LoadOptions options = oneWindow(Duration.ofMillis(500));
    RunResult run =
        new OpenLoopGenerator(client.inferSender("ctr", bodies, false), options).run(300);
    assertEquals(150, run.measured().sent());
    assertEquals(Map.of("200", 150L), run.measured().outcomes());
    assertEquals("open", run.mode());
  }

  static LoadOptions oneWindow(Duration window) {
    return LoadOptions.DEFAULT
        .withWarmup(Duration.ofMillis(200))
        .withWindow(window)
        .withStability(new StabilityRule(1, 1000, 1));
  }

  static long countAtOrAbove(Histogram h, long micros) {
    return h.getTotalCount() - h.getCountBetweenValues(0, h.lowestEquivalentValue(micros) - 1);
  }

  static InputRow row() {
    double[] dense = new double[13];
    double[] sparse = new double[26];
    for (int i = 0; i < 26; i++) {
      sparse[i] = i * 7;
    }
    return new InputRow(Map.of("dense", dense, "sparse", sparse));
  }
}
