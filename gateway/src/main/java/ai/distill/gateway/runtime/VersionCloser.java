package ai.distill.gateway.runtime;

import ai.distill.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Closes retired model versions: once a version's last reference is released it drains its batcher,
 * closes its ORT session on the {@code distill-load} worker and forgets its metrics. Tracks every
 * version that is retiring so that shutdown can wait for all of them. Thread-safe.
 */
final class VersionCloser {

  private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

  private final WorkerExecutor loadWorker;
  private final GatewayMetrics metrics;
  private final Map<LoadedModel, Promise<Void>> closing = new ConcurrentHashMap<>();

  VersionCloser(WorkerExecutor loadWorker, GatewayMetrics metrics) {
    this.loadWorker = loadWorker;
    this.metrics = metrics;
  }

  /** Marks {@code model} as retiring: {@link #allClosed()} waits for it from now on. */
  void retiring(LoadedModel model) {
    closing.computeIfAbsent(model, k -> Promise.promise());
  }

  /** Called when the last reference of {@code model} is released. */
  void closeWhenUnused(LoadedModel model) {
    Promise<Void> done = closing.computeIfAbsent(model, k -> Promise.promise());
    // Every batch must have returned from ORT before the session is freed: a request reference
    // may be gone while its batch still runs (a failed caller, a timed-out drain).
    model
        .batcher()
        .drain()
        .compose(
            v ->
                loadWorker.executeBlocking(
                    () -> {
                      model.session().close();
                      model.markSessionClosed();
                      return null;
                    },
                    false))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "closing the session of " + model.id() + " failed: " + ar.cause());
              }
              metrics.forgetVersion(model.name(), Long.toString(model.version()));
              closing.remove(model);
              LOG.log(System.Logger.Level.INFO, "model {0} drained and closed", model.id());
              done.tryComplete();
            });
  }

  /** Completes when every version marked so far has closed. */
  List<Future<Void>> allClosed() {
    List<Future<Void>> done = new ArrayList<>();
    for (Promise<Void> p : closing.values()) {
      done.add(p.future());
    }
    return done;
  }
}
