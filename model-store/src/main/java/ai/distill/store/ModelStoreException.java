package ai.distill.store;

/**
 * Base type of the store's failures that are not argument errors; unchecked so callers can use it
 * in futures and lambdas.
 */
public class ModelStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelStoreException(String message) {
    super(message);
  }

  public ModelStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
