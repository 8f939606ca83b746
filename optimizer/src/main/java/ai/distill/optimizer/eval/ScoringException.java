package ai.distill.optimizer.eval;

/** ONNX Runtime failed to load or run a model; wraps the {@code OrtException} with what was being done. */
public final class ScoringException extends RuntimeException {

    public ScoringException(String message, Throwable cause) {
        super(message, cause);
    }
}
