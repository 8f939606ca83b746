package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow-loris clients have their connections closed while other clients keep being served: a body
 * dribbled a byte at a time after {@code request_body_timeout_ms}, an unfinished head after {@code
 * idle_timeout_ms}, and so is a head dribbled on and on faster than that (an incomplete head is not
 * activity); a head over the 8 KB header limit is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowLorisTest {

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .requestTimeouts(Duration.ofMillis(1_000), Duration.ofMillis(1_500))
                    .build())
            .await();
  }

  @AfterAll
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  /** Writes {@code bytes} one at a time, 100 ms apart, until written or the server closed. */
  private static boolean dribbleUntilClosed(RawHttp c, byte[] bytes) throws Exception {
    for (byte b : bytes) {
      try {
        c.write(new byte[] {b});
      } catch (java.io.IOException e) {
        return true; // closed by the server
      }
      Thread.sleep(100);
    }
    return false;
  }

  private void othersAreServed() throws Exception {
    try (RawHttp other = new RawHttp(gateway.port(), 10_000)) {
      RawHttp.Reply r =
          other.exchange(
              "POST",
              "/v2/models/ctr/infer",
              Map.of("Content-Type", "application/json"),
              HostileRequests.VALID_INFER.getBytes(StandardCharsets.UTF_8));
      assertEquals(200, r.status(), r.toString());
    }
  }

  @Test
  void a_request_head_dribbled_faster_than_the_idle_timeout_is_still_cut_off_by_it()
      throws Exception {
    // 50 bytes every 100 ms, ten times faster than the 1 s idle timeout, and the whole head (about
    // 4 KB, 8 s at that pace) under the 8 KB header limit: only an incomplete head counting as
    // no activity (Vert.x's idle handler sits behind the decoder) stops it.
    byte[] head =
        ("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(4_000) + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    try (RawHttp slow = new RawHttp(gateway.port(), 10_000)) {
      othersAreServed();
      int sent = 0;
      boolean cut = false;
      while (sent < head.length && !cut) {
        try {
          slow.write(java.util.Arrays.copyOfRange(head, sent, Math.min(head.length, sent + 50)));
          sent += 50;
        } catch (java.io.IOException e) {
          cut = true;
        }
        Thread.sleep(100);
      }
      assertTrue(cut || slow.closedByServer(), "the dribbled head kept its connection");
      assertTrue(sent < head.length, "the whole head was taken: " + sent + " bytes");
      othersAreServed();
    }
  }

  @Test
  void a_keep_alive_connection_that_pauses_between_requests_keeps_being_served() throws Exception {
    // Silent for most of the idle timeout between requests, longer in total than the timeout.
    try (RawHttp c = new RawHttp(gateway.port(), 10_000)) {
      for (int i = 0; i < 3; i++) {
        RawHttp.Reply r = c.exchange("GET", "/v2/health/live", Map.of(), null);
        assertEquals(200, r.status(), r.toString());
        Thread.sleep(700);
      }
    }
  }

  @Test
  void a_request_head_over_the_header_limit_is_refused() throws Exception {
    byte[] head =
        ("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9_000) + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    try (RawHttp big = new RawHttp(gateway.port(), 10_000)) {
      try {
        big.write(head);
      } catch (java.io.IOException e) {
        // closed while writing: refused
      }
      RawHttp.Reply r = big.read();
      assertTrue(r.status() == 431 || r.status() == 0, "the oversized head was served: " + r);
      othersAreServed();
    }
  }

  @Test
  void a_body_dribbled_byte_by_byte_is_cut_off() throws Exception {
    byte[] body = HostileRequests.VALID_INFER.getBytes(StandardCharsets.UTF_8);
    byte[] request =
        RawHttp.request(
            "POST", "/v2/models/ctr/infer", Map.of("Content-Type", "application/json"), body);
    int headLength = request.length - body.length;
    try (RawHttp slow = new RawHttp(gateway.port(), 10_000)) {
      slow.write(java.util.Arrays.copyOf(request, headLength));
      boolean closed =
          dribbleUntilClosed(
              slow, java.util.Arrays.copyOfRange(request, headLength, request.length));
      assertTrue(closed || slow.closedByServer(), "the dribbled body was read to the end");
      othersAreServed();
    }
  }

  @Test
  void an_unfinished_head_is_cut_off_by_the_idle_timeout() throws Exception {
    try (RawHttp slow = new RawHttp(gateway.port(), 10_000)) {
      slow.write(
          "POST /v2/models/ctr/infer HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(slow.closedByServer(), "the half-sent head kept its connection");
    }
  }

  @Test
  void a_keep_alive_client_that_pauses_briefly_is_still_served() throws Exception {
    try (RawHttp c = new RawHttp(gateway.port(), 10_000)) {
      for (int i = 0; i < 3; i++) {
        RawHttp.Reply r = c.exchange("GET", "/v2/health/live", Map.of(), null);
        assertEquals(200, r.status(), r.toString());
        Thread.sleep(200);
      }
      // a body that comes at a normal pace is read whole
      RawHttp.Reply r =
          c.exchange(
              "POST",
              "/v2/models/ctr/infer",
              Map.of("Content-Type", "application/json"),
              HostileRequests.VALID_INFER.getBytes(StandardCharsets.UTF_8));
      assertEquals(200, r.status(), r.toString());
    }
  }

  @Test
  void the_timeouts_come_from_the_json_config_and_must_be_positive() {
    ai.distill.gateway.GatewayConfig c =
        ai.distill.gateway.GatewayConfig.fromJson(
                dir,
                new io.vertx.core.json.JsonObject(
                    "{\"idle_timeout_ms\": 5000, \"request_body_timeout_ms\": 7000}"))
            .build();
    assertEquals(Duration.ofMillis(5000), c.idleTimeout());
    assertEquals(Duration.ofMillis(7000), c.requestBodyTimeout());
    ai.distill.gateway.GatewayConfig d =
        ai.distill.gateway.GatewayConfig.fromJson(dir, new io.vertx.core.json.JsonObject()).build();
    assertEquals(Duration.ofSeconds(60), d.idleTimeout());
    assertEquals(Duration.ofSeconds(60), d.requestBodyTimeout());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () ->
            ai.distill.gateway.GatewayConfig.fromJson(
                dir, new io.vertx.core.json.JsonObject("{\"idle_timeout_ms\": 0}")));
  }
}
