package ai.distill.loadtest.generator;

import io.vertx.core.Future;

/**
 * Sends the {@code i}-th request of a run and completes with its {@link Outcome}; never fails the
 * future (transport errors are outcomes too). Implementations must be callable from any thread.
 */
@FunctionalInterface
public interface RequestSender {
  Future<Outcome> send(long i);

  /** Rows carried by each request (for rows/s). */
  default int rowsPerRequest() {
    return 1;
  }

  /**
   * Whether {@link #schedule} is supported: then the open-loop generator hands each send to the
   * sender's I/O thread a few milliseconds ahead, and that thread sends it at its time, instead of
   * the generator waking up and handing every request over at its send time (two thread wake-ups
   * per request on the client's core, each one a chance to be late).
   */
  default boolean canSchedule() {
    return false;
  }

  /**
   * Runs {@code task} at {@code nanos} (on the generator clock's scale, {@link System#nanoTime()}
   * for real senders) on this sender's I/O thread; {@link #send} called from the task goes out
   * without a further hand-off. Callable from any thread.
   *
   * @throws UnsupportedOperationException unless {@link #canSchedule()}
   */
  default void schedule(long nanos, Runnable task) {
    throw new UnsupportedOperationException("this sender cannot schedule sends");
  }
}
