package ai.distill.gateway.runtime;

/**
 * A model version could not be loaded (unreadable, corrupt, checksum mismatch, unsupported graph).
 */
public final class ModelLoadException extends RuntimeException {

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
