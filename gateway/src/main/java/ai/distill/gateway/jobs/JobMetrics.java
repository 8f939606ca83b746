package ai.distill.gateway.jobs;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The jobs' metrics: {@code distill_jobs_total{action,outcome}} (outcome: succeeded, failed,
 * cancelled, interrupted) and {@code distill_job_running{source}} (1 while a job for that source
 * model runs). Labels are bounded by actions and model names. Thread-safe.
 */
public final class JobMetrics {

  private final Counter jobs;
  private final Gauge running;

  private JobMetrics(PrometheusRegistry registry) {
    jobs =
        Counter.builder()
            .name("distill_jobs_total")
            .help("Optimizer jobs that ended, by action and outcome")
            .labelNames("action", "outcome")
            .register(registry);
    running =
        Gauge.builder()
            .name("distill_job_running")
            .help("1 while an optimizer job for the source model runs, else 0")
            .labelNames("source")
            .register(registry);
  }

  public static JobMetrics register(PrometheusRegistry registry) {
    return new JobMetrics(registry);
  }

  void ended(JobSpec.Action action, JobRecord.State outcome) {
    jobs.labelValues(action.jsonName(), outcome.jsonName()).inc();
  }

  void running(String source, boolean on) {
    running.labelValues(source).set(on ? 1 : 0);
  }
}
