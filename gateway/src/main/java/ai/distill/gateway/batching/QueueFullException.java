package ai.distill.gateway.batching;

/** A batcher's queue has no room for a request; the caller should retry later (HTTP 429). */
public final class QueueFullException extends RuntimeException {

  private final long retryAfterSeconds;

  public QueueFullException(
      String model, int queuedRows, int capacityRows, long retryAfterSeconds) {
    super(
        "queue of "
            + model
            + " is full ("
            + queuedRows
            + " rows queued, capacity "
            + capacityRows
            + " rows): retry after "
            + retryAfterSeconds
            + " s or lower the request rate");
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A refusal with its own message (it must say what is full and what to do). */
  public QueueFullException(String message, long retryAfterSeconds) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Suggested wait before retrying, whole seconds, at least 1. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
