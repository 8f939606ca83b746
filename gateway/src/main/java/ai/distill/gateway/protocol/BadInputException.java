package ai.distill.gateway.protocol;

/**
 * A request the client must fix: malformed JSON, a tensor that does not match the model's
 * signature, values out of range for their datatype. Carries the HTTP status to answer with (400
 * unless told) and a message that names the offending input and says what was expected and what was
 * received.
 */
public final class BadInputException extends RuntimeException {

  private final int status;

  /** A 400 Bad Request with the given message. */
  public BadInputException(String message) {
    this(400, message);
  }

  /** A 4xx answer with the given status and message. */
  public BadInputException(int status, String message) {
    super(message, null, false, false);
    if (status < 400 || status > 499) {
      throw new IllegalArgumentException("status : " + status + " (expected: 400..499)");
    }
    this.status = status;
  }

  /** The HTTP status to answer with, 4xx. */
  public int status() {
    return status;
  }
}
