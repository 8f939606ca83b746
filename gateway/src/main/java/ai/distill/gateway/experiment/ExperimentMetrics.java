package ai.distill.gateway.experiment;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Prometheus metrics of experiments. Labels are bounded: experiment, variant (a model name),
 * decision and measure — never a user or request id. Thread-safe.
 *
 * <pre>{@code
 * ExperimentMetrics metrics = ExperimentMetrics.register(gateway.registry());
 * }</pre>
 */
public class ExperimentMetrics {

  /** Discards everything; for tests and tools. */
  public static final ExperimentMetrics NOOP = new ExperimentMetrics();

  private final Counter requests;
  private final Counter exposures;
  private final Counter impressions;
  private final Counter clicks;
  private final Counter decisions;
  private final Gauge srmPValue;
  private final Gauge shadow;
  private final Counter shadowRequests;

  private ExperimentMetrics() {
    requests = null;
    exposures = null;
    impressions = null;
    clicks = null;
    decisions = null;
    srmPValue = null;
    shadow = null;
    shadowRequests = null;
  }

  private ExperimentMetrics(PrometheusRegistry registry) {
    requests =
        Counter.builder()
            .name("distill_experiment_requests_total")
            .help("Requests routed through an experiment, by variant and outcome")
            .labelNames("experiment", "variant", "outcome")
            .register(registry);
    exposures =
        Counter.builder()
            .name("distill_experiment_exposures_total")
            .help("Users exposed to a variant for the first time")
            .labelNames("experiment", "variant")
            .register(registry);
    impressions =
        Counter.builder()
            .name("distill_experiment_impressions_total")
            .help("Rows served by a variant of an experiment")
            .labelNames("experiment", "variant")
            .register(registry);
    clicks =
        Counter.builder()
            .name("distill_experiment_clicks_total")
            .help("Clicks joined from feedback to a variant's impressions")
            .labelNames("experiment", "variant")
            .register(registry);
    decisions =
        Counter.builder()
            .name("distill_experiment_decisions_total")
            .help("Decisions taken (promote, rollback, stop, hold)")
            .labelNames("experiment", "variant", "decision")
            .register(registry);
    srmPValue =
        Gauge.builder()
            .name("distill_experiment_srm_p_value")
            .help("Chi-square p-value of the sample-ratio check (alarm below 0.001)")
            .labelNames("experiment")
            .register(registry);
    shadow =
        Gauge.builder()
            .name("distill_experiment_shadow_agreement")
            .help(
                "Agreement of a student with the teacher on shadow-scored rows "
                    + "(measure: mean_abs_diff, rank_agreement, mean_ratio)")
            .labelNames("experiment", "variant", "measure")
            .register(registry);
    shadowRequests =
        Counter.builder()
            .name("distill_shadow_requests_total")
            .help(
                "Shadow scoring of student traffic by the teacher, by outcome (scored, dropped, failed)")
            .labelNames("experiment", "outcome")
            .register(registry);
  }

  public static ExperimentMetrics register(PrometheusRegistry registry) {
    return new ExperimentMetrics(registry);
  }

  void served(String experiment, String variant, boolean ok) {
    if (requests != null) {
      requests.labelValues(experiment, variant, ok ? "ok" : "error").inc();
    }
  }

  void impressions(String experiment, String variant, int rows, boolean firstExposure) {
    if (impressions != null) {
      impressions.labelValues(experiment, variant).inc(rows);
      if (firstExposure) {
        exposures.labelValues(experiment, variant).inc();
      }
    }
  }

  void clicks(String experiment, String variant, int n) {
    if (clicks != null) {
      clicks.labelValues(experiment, variant).inc(n);
    }
  }

  void decision(String experiment, String variant, String decision) {
    if (decisions != null) {
      decisions.labelValues(experiment, variant, decision).inc();
    }
  }

  void srm(String experiment, double p) {
    if (srmPValue != null) {
      srmPValue.labelValues(experiment).set(p);
    }
  }

  void shadowOutcome(String experiment, String outcome) {
    if (shadowRequests != null) {
      shadowRequests.labelValues(experiment, outcome).inc();
    }
  }

  void shadow(String experiment, String variant, ShadowAgreement.Snapshot s) {
    if (shadow != null) {
      shadow.labelValues(experiment, variant, "mean_abs_diff").set(s.meanAbsDiff());
      shadow.labelValues(experiment, variant, "rank_agreement").set(s.rankAgreement());
      shadow.labelValues(experiment, variant, "mean_ratio").set(s.meanRatio());
    }
  }
}
