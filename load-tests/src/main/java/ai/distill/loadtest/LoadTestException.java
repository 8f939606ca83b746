package ai.distill.loadtest;

/**
 * A problem with the tool's input or its target (unreachable gateway, unknown model, rows that do
 * not fit the model) that the user must fix. The message says what is wrong and how to fix it; the
 * CLI prints it on one line and exits non-zero.
 */
public final class LoadTestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LoadTestException(String message) {
    super(message);
  }

  public LoadTestException(String message, Throwable cause) {
    super(message, cause);
  }
}
