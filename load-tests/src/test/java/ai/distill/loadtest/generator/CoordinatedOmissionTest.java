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

/**
 * A fake server stalls once for {@link #STALL}: the open-loop (intended-start) histogram must show
 * the stall in the requests that should have been sent during it; the views measured from the
 * actual send (open loop's uncorrected histogram, closed loop) must not. Assertions are on counts
 * and orderings, never on exact timings.
 */
class CoordinatedOmissionTest {
  static final Duration STALL = Duration.ofMillis(400);
  static final int CONNECTIONS = 4;
  static Vertx vertx;
  static FakeOipServer server;
  static GatewayClient client;
  static RequestBodies bodies;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = new FakeOipServer(vertx, "ctr").start();
    client = GatewayClient.create(vertx, URI.create(server.url()), CONNECTIONS, 4096, Duration.ofSeconds(10));
    bodies = RequestBodies.encode(client.metadata("ctr"), List.of(row()), 1, false, 1);
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void open_loop_latency_from_intended_start_shows_the_stall_for_every_request_it_delayed() {
    LoadOptions options = oneWindow(Duration.ofSeconds(1));
    server.scheduleStall(Duration.ofMillis(200 + 1 + 200), STALL); // warm-up + lead + 200 ms into the window
    RunResult run = new OpenLoopGenerator(client.inferSender("ctr", bodies, false), options).run(500);

    WindowResult w = run.measured();
    assertEquals(500, w.sent() + w.clientSaturated(), "every scheduled request of the window is accounted for");
    assertEquals(0, w.errors());
    long half = STALL.toMillis() / 2 * 1000;
    long correctedSlow = countAtOrAbove(w.corrected(), half);
    long uncorrectedSlow = countAtOrAbove(w.uncorrected(), half);
    // ~rate × stall/2 = 100 requests were intended in the stall's first half; each waited >= stall/2.
    assertTrue(correctedSlow >= 40, "corrected requests >= stall/2: " + correctedSlow);
    // Measured from the actual send, only the requests already on a connection saw the stall.
    assertTrue(uncorrectedSlow <= CONNECTIONS + 4, "uncorrected requests >= stall/2: " + uncorrectedSlow);
    assertTrue(w.corrected().getValueAtPercentile(99) > w.uncorrected().getValueAtPercentile(99));
    assertTrue(w.corrected().getValueAtPercentile(90) >= half, "p90 reflects the stall");
  }

  @Test
  void closed_loop_view_hides_the_stall_behind_a_handful_of_slow_requests() {
    LoadOptions options = oneWindow(Duration.ofSeconds(1));
    server.scheduleStall(Duration.ofMillis(200 + 1 + 200), STALL);
    RunResult run = new ClosedLoopGenerator(client.inferSender("ctr", bodies, false), options).run(CONNECTIONS);

    WindowResult w = run.measured();
    long slow = countAtOrAbove(w.corrected(), STALL.toMillis() / 2 * 1000);
    assertTrue(slow >= 1 && slow <= CONNECTIONS, "closed-loop requests >= stall/2: " + slow);
    assertTrue(w.corrected().getValueAtPercentile(90) < STALL.toMillis() / 2 * 1000, "p90 does not see the stall");
  }

  @Test
  void scheduled_requests_beyond_the_outstanding_bound_count_as_client_saturation_not_a_queue() {
    LoadOptions options = oneWindow(Duration.ofMillis(500)).withWarmup(Duration.ZERO).withMaxOutstanding(2);
    server.scheduleStall(Duration.ZERO, Duration.ofMillis(1500));
    RunResult run = new OpenLoopGenerator(client.inferSender("ctr", bodies, false), options).run(200);

    WindowResult w = run.measured();
    assertEquals(2, w.sent());
    assertEquals(98, w.clientSaturated());
    assertEquals(2, w.okRequests());
  }

  @Test
  void open_loop_sends_exactly_the_scheduled_requests_and_counts_outcomes() {
    LoadOptions options = oneWindow(Duration.ofMillis(500));
    RunResult run = new OpenLoopGenerator(client.inferSender("ctr", bodies, false), options).run(300);
    assertEquals(150, run.measured().sent());
    assertEquals(Map.of("200", 150L), run.measured().outcomes());
    assertEquals("open", run.mode());
  }

  static LoadOptions oneWindow(Duration window) {
    return LoadOptions.DEFAULT.withWarmup(Duration.ofMillis(200)).withWindow(window)
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
