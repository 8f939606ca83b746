package ai.distill.gateway.feedback;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Counts click feedback by outcome (joined, duplicate, unknown, expired, invalid). Thread-safe. */
public class FeedbackMetrics {

  public static final FeedbackMetrics NOOP = new FeedbackMetrics();

  private final Counter outcomes;
  private final Counter collisions;

  private FeedbackMetrics() {
    outcomes = null;
    collisions = null;
  }

  private FeedbackMetrics(PrometheusRegistry registry) {
    outcomes =
        Counter.builder()
            .name("distill_feedback_total")
            .help("Click feedback received, by outcome")
            .labelNames("outcome")
            .register(registry);
    collisions =
        Counter.builder()
            .name("distill_feedback_id_collisions_total")
            .help(
                "Responses whose client-chosen id was already the id of another live impression; "
                    + "feedback for such ids is refused as ambiguous")
            .register(registry);
  }

  public static FeedbackMetrics register(PrometheusRegistry registry) {
    return new FeedbackMetrics(registry);
  }

  public void outcome(String outcome) {
    if (outcomes != null) {
      outcomes.labelValues(outcome).inc();
    }
  }

  /** Counts a response whose id collided with another live impression. */
  public void idCollision() {
    if (collisions != null) {
      collisions.inc();
    }
  }
}
