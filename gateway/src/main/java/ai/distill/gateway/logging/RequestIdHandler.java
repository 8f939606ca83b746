package ai.distill.gateway.logging;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.MDC;

/**
 * Gives every HTTP request an id: the caller's {@value #HEADER} when it is a short token, else 16
 * random hex digits. The id is echoed in the response's {@value #HEADER} header and put in the
 * SLF4J MDC under {@value #MDC_KEY} while the request's handlers run and, through the request's
 * Vert.x context ({@link RequestIdLocal}), on lines its later callbacks log, so each log line of
 * the request carries it. Mount first; stateless and thread-safe.
 */
public final class RequestIdHandler implements Handler<RoutingContext> {

  /** The request and response header. */
  public static final String HEADER = "X-Request-Id";

  /** The MDC key (and JSON field inside {@code mdc}). */
  public static final String MDC_KEY = "request_id";

  private static final String CONTEXT_KEY = "distill.request_id";
  private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  @Override
  public void handle(RoutingContext ctx) {
    String given = ctx.request().getHeader(HEADER);
    String id = given != null && ACCEPTED.matcher(given).matches() ? given : newId();
    ctx.put(CONTEXT_KEY, id);
    RequestIdLocal.bind(id);
    ctx.response().putHeader(HEADER, id);
    withMdc(ctx, ctx::next);
  }

  /** The id of the request ({@code null} when this handler did not run). */
  public static String of(RoutingContext ctx) {
    return ctx.get(CONTEXT_KEY);
  }

  /**
   * A handler that puts the request id back in the MDC for the rest of the chain; mount it after
   * handlers that continue asynchronously (the body handler), since the MDC is per thread.
   */
  public static Handler<RoutingContext> restoreMdc() {
    return ctx -> withMdc(ctx, ctx::next);
  }

  /** Runs {@code body} with the request's id in the MDC (for callbacks that log). */
  public static void withMdc(RoutingContext ctx, Runnable body) {
    String id = of(ctx);
    if (id == null) {
      body.run();
      return;
    }
    String previous = MDC.get(MDC_KEY);
    MDC.put(MDC_KEY, id);
    try {
      body.run();
    } finally {
      if (previous == null) {
        MDC.remove(MDC_KEY);
      } else {
        MDC.put(MDC_KEY, previous);
      }
    }
  }

  /** Like {@link #withMdc(RoutingContext, Runnable)}, returning a value. */
  public static <T> T withMdc(RoutingContext ctx, Supplier<T> body) {
    Object[] out = new Object[1];
    withMdc(ctx, () -> out[0] = body.get());
    @SuppressWarnings("unchecked")
    T t = (T) out[0];
    return t;
  }

  private static String newId() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }
}
