package ai.distill.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Reports versions that appear in or disappear from a {@link ModelStore}, by polling a snapshot of
 * the complete versions (robust on every file system, including network mounts where change
 * notification is unreliable).
 *
 * <pre>{@code
 * try (StoreWatcher w = store.watch(e -> vertx.runOnContext(x -> onStoreEvent(e)), Duration.ofSeconds(1))) {
 *     store.allVersions().forEach(this::load);   // what existed before watching
 *     ...
 * }
 * }</pre>
 *
 * The baseline is taken before {@code watch} returns. Events are delivered on one daemon thread
 * ({@code distill-store-watcher-N}), in order (REMOVED before ADDED within a scan, each by id). The
 * listener must return quickly — hand real work (loading a model) to another executor — because the
 * next scan waits for it; an exception thrown by the listener is logged and does not stop the
 * watcher. {@link #close()} stops the thread.
 */
public final class StoreWatcher implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(StoreWatcher.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final ModelStore store;
  private final Consumer<StoreEvent> listener;
  private final long intervalNanos;
  private final Thread thread;
  private final Object scanLock = new Object();
  private Map<String, String> previous;
  private volatile boolean closed;

  StoreWatcher(
      ModelStore store,
      Consumer<StoreEvent> listener,
      Duration pollInterval,
      boolean emitExisting) {
    this.store = Objects.requireNonNull(store, "store");
    this.listener = Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval : " + pollInterval + " (expected: > 0)");
    }
    this.intervalNanos = pollInterval.toNanos();
    this.previous = emitExisting ? Map.of() : store.snapshot();
    this.thread = new Thread(this::run, "distill-store-watcher-" + THREADS.incrementAndGet());
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Scans now on the calling thread and delivers any changes to the listener before returning
   * (useful in tests and after an operation that must be noticed at once). Safe to call
   * concurrently with the watcher thread.
   */
  public void pollNow() {
    synchronized (scanLock) {
      if (closed) {
        return;
      }
      Map<String, String> current = store.snapshot();
      List<StoreEvent> events = diff(previous, current);
      previous = current;
      for (StoreEvent e : events) {
        try {
          listener.accept(e);
        } catch (RuntimeException ex) {
          LOG.log(System.Logger.Level.WARNING, "store listener failed on " + e, ex);
        }
      }
    }
  }

  /**
   * Stops watching; no event is delivered after this returns (unless from a listener call already
   * running).
   */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }

  private void run() {
    while (!closed) {
      try {
        pollNow();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot scan store " + store.root() + ": " + e);
      }
      try {
        Thread.sleep(intervalNanos / 1_000_000, (int) (intervalNanos % 1_000_000));
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  static List<StoreEvent> diff(Map<String, String> before, Map<String, String> after) {
    List<StoreEvent> removed = new ArrayList<>();
    List<StoreEvent> added = new ArrayList<>();
    for (Map.Entry<String, String> e : before.entrySet()) {
      String now = after.get(e.getKey());
      if (!e.getValue().equals(now)) {
        removed.add(event(StoreEvent.Kind.REMOVED, e.getKey()));
      }
    }
    for (Map.Entry<String, String> e : after.entrySet()) {
      if (!e.getValue().equals(before.get(e.getKey()))) {
        added.add(event(StoreEvent.Kind.ADDED, e.getKey()));
      }
    }
    removed.addAll(added);
    return removed;
  }

  private static StoreEvent event(StoreEvent.Kind kind, String id) {
    int colon = id.lastIndexOf(':');
    return new StoreEvent(kind, id.substring(0, colon), Long.parseLong(id.substring(colon + 1)));
  }
}
