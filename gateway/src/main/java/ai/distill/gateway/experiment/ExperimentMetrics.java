package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.GuardrailVerdict;
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
  private final Gauge srmSequentialPValue;
  private final Gauge srmAlarm;
  private final Gauge guardrailBreach;
  private final Gauge shadow;
  private final Counter shadowRequests;

  private ExperimentMetrics() {
    requests = null;
    exposures = null;
    impressions = null;
    clicks = null;
    decisions = null;
    srmPValue = null;
    srmSequentialPValue = null;
    srmAlarm = null;
    guardrailBreach = null;
    shadow = null;
    shadowRequests = null;
  }

  private ExperimentMetrics(PrometheusRegistry registry) {
    requests =
        Counter.builder()
            .name("distill_experiment_requests_total")
            .help(
                "Requests routed through an experiment, by variant and outcome "
                    + "(ok, model_error, shed, client_error)")
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
            .help("Chi-square p-value of the sample-ratio check (shown only; never decides)")
            .labelNames("experiment")
            .register(registry);
    srmSequentialPValue =
        Gauge.builder()
            .name("distill_experiment_srm_sequential_p_value")
            .help("Always-valid p-value of the sequential sample-ratio test (alarm below 0.001)")
            .labelNames("experiment")
            .register(registry);
    srmAlarm =
        Gauge.builder()
            .name("distill_experiment_srm_alarm")
            .help("1 when a sample-ratio mismatch froze the experiment's decisions, else 0")
            .labelNames("experiment")
            .register(registry);
    guardrailBreach =
        Gauge.builder()
            .name("distill_experiment_guardrail_breach")
            .help(
                "1 when a student's guardrail (latency: its last window breached; errors: a"
                    + " confirmed excess) is breached, else 0")
            .labelNames("experiment", "variant", "guardrail")
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

  void served(String experiment, String variant, String outcome) {
    if (requests != null) {
      requests.labelValues(experiment, variant, outcome).inc();
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

  void srm(String experiment, double chiSquareP, double sequentialP, boolean alarm) {
    if (srmPValue != null) {
      srmPValue.labelValues(experiment).set(chiSquareP);
      srmSequentialPValue.labelValues(experiment).set(sequentialP);
      srmAlarm.labelValues(experiment).set(alarm ? 1 : 0);
    }
  }

  void guardrail(String experiment, String variant, String guardrail, boolean breach) {
    if (guardrailBreach != null) {
      guardrailBreach.labelValues(experiment, variant, guardrail).set(breach ? 1 : 0);
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

  /** Exports one evaluation: SRM p-values and alarm, and each student's guardrail breaches. */
  void evaluated(
      String experiment,
      DecisionEngine.ArmFigures[] figures,
      DecisionEngine.Evaluation e,
      int teacher) {
    srm(experiment, e.srmPValue(), e.srm().pValue(), e.srmAlarm());
    for (int i = 0; i < figures.length; i++) {
      if (i != teacher) {
        String model = figures[i].model();
        var lat = e.latency()[i];
        var err = e.errors()[i];
        guardrail(experiment, model, "latency", lat != null && lat.breach());
        guardrail(
            experiment, model, "errors", err != null && err.verdict() == GuardrailVerdict.ROLLBACK);
      }
    }
  }
}
