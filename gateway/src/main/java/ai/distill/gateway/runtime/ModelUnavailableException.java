package ai.distill.gateway.runtime;

/** The gateway is starting or draining, or a model has no ready version (HTTP 503). */
public final class ModelUnavailableException extends RuntimeException {

  public ModelUnavailableException(String message) {
    super(message);
  }
}
