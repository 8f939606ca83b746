package ai.distill.gateway.jobs;

/**
 * A job request the service refuses, with the reason's kind (the HTTP layer maps it to a status)
 * and a message that says what to change.
 */
public final class JobRejectedException extends RuntimeException {

  /** Why a job was refused. */
  public enum Reason {
    /** Malformed or impossible request (400). */
    BAD_REQUEST(400),
    /** Unknown source model or job (404). */
    NOT_FOUND(404),
    /** A job for the same source is queued or running, or the job already finished (409). */
    CONFLICT(409),
    /** The queue is full (429). */
    QUEUE_FULL(429);

    private final int status;

    Reason(int status) {
      this.status = status;
    }

    /** The HTTP status for this reason. */
    public int status() {
      return status;
    }
  }

  private final Reason reason;

  public JobRejectedException(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
