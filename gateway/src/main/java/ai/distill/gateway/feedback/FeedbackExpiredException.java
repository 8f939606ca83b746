package ai.distill.gateway.feedback;

/**
 * Feedback arrived after the attribution window of its response closed; the HTTP layer answers 410.
 */
public final class FeedbackExpiredException extends RuntimeException {

  public FeedbackExpiredException(String message) {
    super(message, null, false, false);
  }
}
