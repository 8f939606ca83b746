package ai.distill.gateway.feedback;

/**
 * A response id that looks gateway-made but is not well formed or its signature does not match
 * (forged, altered, or signed with another key); the HTTP layer answers 400.
 */
public final class InvalidResponseIdException extends IllegalArgumentException {

  public InvalidResponseIdException(String message) {
    super(message);
  }
}
