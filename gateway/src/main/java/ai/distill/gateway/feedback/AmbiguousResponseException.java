package ai.distill.gateway.feedback;

/**
 * Several different live responses carry this id (clients reused a request id), so clicks cannot be
 * attributed; the HTTP layer answers 409.
 */
public final class AmbiguousResponseException extends RuntimeException {

  public AmbiguousResponseException(String message) {
    super(message, null, false, false);
  }
}
