package ai.distill.gateway.runtime;

/**
 * The model itself failed a request, through no fault of the client: it produced an output that is
 * not a valid score ({@link Kind#BAD_OUTPUT}, HTTP 502), did not answer in time ({@link
 * Kind#TIMEOUT}, 504), or its circuit breaker is open after repeated failures ({@link
 * Kind#CIRCUIT_OPEN}, 503 with Retry-After). Experiments count it as the variant's model error.
 */
public final class ModelFaultException extends RuntimeException {

  /** What went wrong, with its HTTP status and the {@code kind} label of the faults metric. */
  public enum Kind {
    BAD_OUTPUT(502, "bad_output"),
    TIMEOUT(504, "timeout"),
    CIRCUIT_OPEN(503, "circuit_open");

    private final int status;
    private final String label;

    Kind(int status, String label) {
      this.status = status;
      this.label = label;
    }

    public int status() {
      return status;
    }

    public String label() {
      return label;
    }
  }

  private final Kind kind;
  private final long retryAfterSeconds;

  public ModelFaultException(Kind kind, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status to answer with. */
  public int status() {
    return kind.status;
  }

  /** Seconds a client should wait before retrying (for an open circuit; else 1). */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
