package ai.distill.gateway.experiment;

/** A request named a variant (or experiment) that does not exist; the HTTP layer answers 404. */
public final class UnknownVariantException extends RuntimeException {

  public UnknownVariantException(String message) {
    super(message);
  }
}
