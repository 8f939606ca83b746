package ai.distill.store;

/**
 * A model or model version that the store does not hold; the message names what was asked and what
 * exists.
 */
public class ModelNotFoundException extends ModelStoreException {
  private static final long serialVersionUID = 1L;

  public ModelNotFoundException(String message) {
    super(message);
  }
}
