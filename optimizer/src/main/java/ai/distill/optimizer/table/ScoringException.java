package ai.distill.optimizer.table;

/**
 * A {@link TableScorer} could not score a table: ONNX Runtime failed to load or run the model, or
 * the table does not fit the model's inputs or outputs. The message names the model and what to
 * change.
 */
public final class ScoringException extends RuntimeException {

  public ScoringException(String message) {
    super(message);
  }

  public ScoringException(String message, Throwable cause) {
    super(message, cause);
  }
}
