package ai.distill.gateway.experiment;

/** An experiment name clashes with a model or another experiment; the HTTP layer answers 409. */
public final class ExperimentConflictException extends RuntimeException {

    public ExperimentConflictException(String message) {
        super(message);
    }
}
