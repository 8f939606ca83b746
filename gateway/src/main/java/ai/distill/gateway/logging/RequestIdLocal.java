package ai.distill.gateway.logging;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

/**
 * The request id kept in the request's Vert.x (duplicated) context, so that a line logged from any
 * later callback of the request (a body handler, a batch result, a timer) still carries it: the
 * SLF4J MDC is per thread and is gone by then. Vert.x runs each HTTP request on its own duplicated
 * context and runs the request's callbacks on it.
 *
 * <p>Context locals must be registered before the first {@link Vertx} is built; Vert.x loads this
 * class as a {@link VertxServiceProvider} (declared in {@code META-INF/services}) at that moment.
 */
public final class RequestIdLocal implements VertxServiceProvider {

  static final ContextLocal<String> KEY = ContextLocal.registerLocal(String.class);

  @Override
  public void init(VertxBootstrap bootstrap) {
    // Registering KEY (above, when Vert.x loads this provider) is all there is to do.
  }

  /** Binds {@code id} to the current context when it is a request's own (duplicated) context. */
  static void bind(String id) {
    if (Vertx.currentContext() instanceof ContextInternal c && c.isDuplicate()) {
      c.putLocal(KEY, id);
    }
  }

  /** The request id of the current context, or {@code null} outside a request. */
  static String current() {
    Context c = Vertx.currentContext();
    return c instanceof ContextInternal ci && ci.isDuplicate() ? c.getLocal(KEY) : null;
  }
}
