package ai.distill.gateway.runtime;

/** A request named a model or version that is not loaded (HTTP 404). */
public final class UnknownModelException extends RuntimeException {

  public UnknownModelException(String message) {
    super(message);
  }
}
