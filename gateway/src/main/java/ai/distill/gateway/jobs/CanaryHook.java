package ai.distill.gateway.jobs;

import io.vertx.core.Future;

/**
 * What a successful job with a {@code "canary"} does with its result: put the new model into an
 * experiment at a small weight, next to its teacher. The gateway's experiment service implements
 * it; the job service calls it once per successful job, from a job thread (never an event loop),
 * and records the future's outcome in the job's {@code canary.status}.
 *
 * <pre>{@code
 * CanaryHook hook = (experiment, teacher, model, version, weight) ->
 *     experiments.addCanary(experiment, teacher, model, version, weight);   // the lead's wiring
 * }</pre>
 */
@FunctionalInterface
public interface CanaryHook {

  /** Does nothing and succeeds: jobs publish, no experiment changes. */
  CanaryHook NONE = (experiment, teacherModel, model, version, weight) -> Future.succeededFuture();

  /**
   * Adds {@code model:version} to {@code experiment} at {@code weight} percent of its traffic.
   *
   * @param experiment the experiment named by the job's canary
   * @param teacherModel the job's source model (the experiment's teacher)
   * @param model the published model
   * @param version its version
   * @param weight the canary's weight, 1..99
   * @return completes when the experiment serves the canary, fails with a reason otherwise
   */
  Future<Void> canary(
      String experiment, String teacherModel, String model, long version, int weight);
}
