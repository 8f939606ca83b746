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
}
