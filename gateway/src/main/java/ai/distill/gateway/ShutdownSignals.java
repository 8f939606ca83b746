package ai.distill.gateway;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Closes every running {@link Gateway} gracefully on SIGTERM/SIGINT <em>before</em> the JVM starts
 * exiting, then exits with {@code 128 + signal}.
 *
 * <p>Why not a shutdown hook: ONNX Runtime registers its own JVM shutdown hook that frees the
 * native environment, and shutdown hooks run concurrently, so a batch still inside {@code
 * OrtSession.run} would crash the JVM (SIGSEGV in libonnxruntime). Draining first means no batch
 * runs by the time the hooks (ORT's and the CLI's) run. A second signal exits at once.
 *
 * <p>Installed once per JVM by the first {@link Gateway#start}; set the system property {@code
 * distill.signals=false} to keep the JVM's default handling (e.g. when embedding).
 */
final class ShutdownSignals {

  private static final System.Logger LOG = System.getLogger(ShutdownSignals.class.getName());

  private static final Set<Gateway> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean INSTALLED = new AtomicBoolean();
  private static final AtomicBoolean SIGNALLED = new AtomicBoolean();

  private ShutdownSignals() {}

  static void register(Gateway gateway) {
    LIVE.add(gateway);
    if (!"false".equals(System.getProperty("distill.signals"))
        && INSTALLED.compareAndSet(false, true)) {
      for (String name : List.of("TERM", "INT")) {
        try {
          Signal.handle(new Signal(name), ShutdownSignals::onSignal);
        } catch (IllegalArgumentException e) {
          LOG.log(System.Logger.Level.WARNING, "cannot handle SIG" + name + ": " + e.getMessage());
        }
      }
    }
  }

  static void unregister(Gateway gateway) {
    LIVE.remove(gateway);
  }

  // Runs on the JVM's signal dispatcher: close on a thread of our own, then exit.
  private static void onSignal(Signal signal) {
    int status = 128 + signal.getNumber();
    if (!SIGNALLED.compareAndSet(false, true)) {
      System.err.println("distill: second SIG" + signal.getName() + ": exiting now");
      System.exit(status);
      return;
    }
    Thread closer =
        new Thread(
            () -> {
              System.err.println(
                  "distill: SIG" + signal.getName() + ": draining in-flight requests before exit");
              List<Future<Void>> closes = new ArrayList<>();
              long waitMillis = 0;
              for (Gateway g : List.copyOf(LIVE)) {
                closes.add(g.close());
                waitMillis =
                    Math.max(
                        waitMillis,
                        g.config().shutdownGrace().toMillis()
                            + 2 * g.config().drainTimeout().toMillis()
                            + 10_000);
              }
              try {
                Future.join(closes)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(waitMillis, TimeUnit.MILLISECONDS);
              } catch (Exception e) {
                System.err.println("distill: graceful shutdown incomplete: " + e);
              }
              System.exit(status);
            },
            "distill-signal");
    closer.start();
  }
}
