package ai.distill.gateway.feedback;

/**
 * No remembered response has this id: never served, or forgotten long ago; the HTTP layer answers
 * 404.
 */
public final class UnknownResponseException extends RuntimeException {

  public UnknownResponseException(String message) {
    super(message, null, false, false);
  }
}
