package ai.distill.gateway.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;

/**
 * Cuts off slow-loris uploads: a request body (any but an NDJSON stream's, whose paths end in
 * {@code /stream} and which have their own stall timeout) must arrive within {@code bodyTimeout} of
 * its head, or its connection is closed, however steadily it dribbles. Connections that go silent
 * (an unfinished head or body, an idle keep-alive connection) are closed by the server's idle
 * timeout ({@code idle_timeout_ms}), which also bounds a head however steadily it dribbles:
 * Vert.x's idle handler sits behind the HTTP decoder, so only a complete head (or a body chunk)
 * counts as activity, and a head must be complete within the idle timeout of the connection's last
 * activity. One timer per request with a body, on the request's event loop. Thread-safe.
 *
 * <pre>{@code
 * SlowClientGuard guard = new SlowClientGuard(vertx, Duration.ofSeconds(60));
 * vertx.createHttpServer(options).requestHandler(guard.wrap(router));
 * }</pre>
 */
public final class SlowClientGuard {

  private final Vertx vertx;
  private final long bodyMillis;

  public SlowClientGuard(Vertx vertx, Duration bodyTimeout) {
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new IllegalArgumentException("bodyTimeout : " + bodyTimeout + " (expected: > 0)");
    }
    this.vertx = vertx;
    this.bodyMillis = bodyTimeout.toMillis();
  }

  /** {@code handler} with every request's body on a deadline. */
  public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> handler) {
    return request -> {
      if (!request.isEnded() && !request.path().endsWith("/stream")) {
        vertx.setTimer(
            bodyMillis,
            id -> {
              if (!request.isEnded()) {
                request.connection().close();
              }
            });
      }
      handler.handle(request);
    };
  }
}
