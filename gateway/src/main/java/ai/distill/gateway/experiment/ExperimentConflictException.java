package ai.distill.gateway.experiment;

/**
 * A request conflicts with the experiments as they are: the name clashes with a model or another
 * experiment, the experiment is no longer running, or it has no active student to decide about. The
 * HTTP layer answers 409.
 */
public final class ExperimentConflictException extends RuntimeException {

  public ExperimentConflictException(String message) {
    super(message);
  }
}
