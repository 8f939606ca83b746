package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A refusal sent before the request body was read must not leave the keep-alive connection in a
 * state where the rest of that body is parsed as the next request, or where the next request is
 * never answered: either the refusal says {@code Connection: close} and the server closes, or the
 * next request on the connection is answered normally. Bytes are written with a raw socket so that
 * no client library repairs anything.
 */
class KeepAliveAfterRefusalTest {

  private static final String NEXT = "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n";

  private static int port() {
    return FuzzGateway.get().gateway.port();
  }

  /** The next request on the same connection: answered 200, or the connection was closed. */
  private static void nextRequestIsAnsweredOrConnectionClosed(RawHttp c, RawHttp.Reply refusal) {
    if (refusal.closes()) {
      assertTrue(c.closedByServer(), "said Connection: close but kept the connection open");
      return;
    }
    RawHttp.Reply next = c.exchange("GET", "/v2/health/live", Map.of(), null);
    assertEquals(200, next.status(), "the request after " + refusal.status() + ": " + next);
  }

  @Test
  void a_body_over_the_limit_is_refused_and_its_bytes_never_become_a_request() throws Exception {
    // The body ends with a request of its own: if the server stopped reading at the 413 and
    // parsed the rest as the next request, it would answer it (request smuggling).
    int n = FuzzGateway.MAX_BODY_BYTES + 1000;
    byte[] smuggled = NEXT.getBytes(StandardCharsets.US_ASCII);
    byte[] body = new byte[n];
    java.util.Arrays.fill(body, (byte) ' ');
    System.arraycopy(smuggled, 0, body, n - smuggled.length, smuggled.length);
    try (RawHttp c = new RawHttp(port(), 5_000)) {
      RawHttp.Reply refusal =
          postWhileReading(c, "/v2/models/ctr/infer", "application/json", body, 5_000);
      assertEquals(413, refusal.status(), refusal.toString());
      assertTrue(refusal.text().contains("\"error\""), refusal.toString());
      assertTrue(refusal.closes(), "a 413 sent before the body was read must close: " + refusal);
      assertTrue(c.closedByServer(), "the connection stayed open after the 413");
    }
  }

  @Test
  void an_oversized_header_is_refused_with_connection_close() {
    try (RawHttp c = new RawHttp(port(), 5_000)) {
      RawHttp.Reply r =
          c.exchange("GET", "/v2/health/live", Map.of("X-Big", "a".repeat(20_000)), null);
      assertEquals(431, r.status(), r.toString());
      assertTrue(c.closedByServer(), "the connection stayed open after the 431");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void an_early_refusal_with_a_small_body_keeps_the_connection_usable() throws Exception {
    try (RawHttp c = new RawHttp(port(), 5_000)) {
      for (int i = 0; i < 20; i++) {
        RawHttp.Reply r =
            c.exchange(
                "POST",
                "/admin/v1/optimize",
                Map.of("Content-Type", "application/json", "Authorization", "Bearer wrong"),
                "{\"model\":\"ctr\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(403, r.status(), r.toString());
        nextRequestIsAnsweredOrConnectionClosed(c, r);
        if (r.closes()) {
          return;
        }
      }
    }
  }

  @Test
  void a_stream_to_an_unknown_model_is_refused_and_its_body_never_becomes_a_request()
      throws Exception {
    byte[] body = (HostileStreams.row(0) + "\n" + NEXT).getBytes(StandardCharsets.UTF_8);
    try (RawHttp c = new RawHttp(port(), 5_000)) {
      RawHttp.Reply r =
          c.exchange(
              "POST",
              "/v1/models/nope/stream",
              Map.of("Content-Type", "application/x-ndjson"),
              body);
      assertEquals(404, r.status(), r.toString());
      nextRequestIsAnsweredOrConnectionClosed(c, r);
      assertTrue(r.closes(), "refused before its body was read, without Connection: close: " + r);
    }
  }

  @Test
  void a_stream_line_over_the_limit_ends_the_stream_and_the_rest_of_the_body_is_no_request()
      throws Exception {
    StringBuilder b = new StringBuilder();
    b.append(HostileStreams.row(0)).append('\n');
    b.append("{\"inputs\":{\"dense\":[").append(" ".repeat((1 << 20) + 10)).append("]}}\n");
    b.append(HostileStreams.row(1)).append('\n');
    b.append(NEXT); // would be answered if the unread rest of the body were parsed as a request
    byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
    try (RawHttp c = new RawHttp(port(), 10_000)) {
      RawHttp.Reply r =
          postWhileReading(c, "/v1/models/ctr/stream", "application/x-ndjson", body, 10_000);
      assertEquals(200, r.status(), r.toString());
      String[] lines = r.text().split("\n");
      assertEquals(2, lines.length, r.text());
      assertTrue(lines[1].contains("longer than"), lines[1]);
      nextRequestIsAnsweredOrConnectionClosed(c, r);
    }
  }

  /**
   * Writes a POST on its own thread while this one reads the answer (the server may answer, and
   * close, before the body is all written: a failed write is allowed), then waits for the writer.
   */
  private static RawHttp.Reply postWhileReading(
      RawHttp c, String uri, String contentType, byte[] body, long joinMillis)
      throws InterruptedException {
    Thread writer =
        new Thread(
            () -> {
              try {
                c.write(RawHttp.request("POST", uri, Map.of("Content-Type", contentType), body));
              } catch (java.io.IOException e) {
                // the server may close while we write: that is allowed
              }
            });
    writer.start();
    RawHttp.Reply reply = c.read();
    writer.join(joinMillis);
    return reply;
  }
}
