package ai.distill.gateway.experiment;

/**
 * Observes every request served through an experiment (e.g. to publish it as an event to other
 * instances): {@code responseId} is null and {@code version} -1 for a failed one. Called on the
 * serving thread: must not block or throw.
 */
@FunctionalInterface
public interface ServedListener {
  void served(
      ExperimentService.Selection selection,
      String responseId,
      int rows,
      long version,
      RequestOutcome outcome,
      long latencyNanos,
      long costNanos);
}
