package ai.distill.gateway.logging;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one INFO line per answered request on the {@value #LOGGER} logger, with method,
 * path, status, bytes written, duration and the request id (as key-value pairs in JSON lines). Off
 * unless that logger is enabled ({@code --access-log} or {@code DISTILL_ACCESS_LOG=true}); when off
 * it costs one level check per request. Mount right after {@link RequestIdHandler}; stateless and
 * thread-safe.
 */
public final class AccessLogHandler implements Handler<RoutingContext> {

  /** The logger the access log is written to. */
  public static final String LOGGER = "distill.access";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  @Override
  public void handle(RoutingContext ctx) {
    if (LOG.isInfoEnabled()) {
      long start = System.nanoTime();
      ctx.addBodyEndHandler(v -> RequestIdHandler.withMdc(ctx, () -> log(ctx, start)));
    }
    ctx.next();
  }

  private static void log(RoutingContext ctx, long start) {
    HttpServerRequest req = ctx.request();
    int status = ctx.response().getStatusCode();
    long bytes = ctx.response().bytesWritten();
    double millis = (System.nanoTime() - start) / 1e6;
    String remote = req.remoteAddress() == null ? "-" : req.remoteAddress().hostAddress();
    LOG.atInfo()
        .addKeyValue("method", req.method().name())
        .addKeyValue("path", req.path())
        .addKeyValue("status", status)
        .addKeyValue("bytes", bytes)
        .addKeyValue("duration_ms", Math.round(millis * 1000) / 1000.0)
        .addKeyValue("remote", remote)
        .log(
            "{} {} {} {} bytes {} ms",
            req.method().name(),
            req.path(),
            status,
            bytes,
            String.format(java.util.Locale.ROOT, "%.3f", millis));
  }
}
