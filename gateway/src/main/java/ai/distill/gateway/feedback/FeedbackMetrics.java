package ai.distill.gateway.feedback;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Counts click feedback by outcome (joined, duplicate, unknown, expired, invalid). Thread-safe. */
public class FeedbackMetrics {

    public static final FeedbackMetrics NOOP = new FeedbackMetrics();

    private final Counter outcomes;

    private FeedbackMetrics() {
        outcomes = null;
    }

    private FeedbackMetrics(PrometheusRegistry registry) {
        outcomes = Counter.builder().name("distill_feedback_total")
                .help("Click feedback received, by outcome").labelNames("outcome").register(registry);
    }

    public static FeedbackMetrics register(PrometheusRegistry registry) {
        return new FeedbackMetrics(registry);
    }

    public void outcome(String outcome) {
        if (outcomes != null) {
            outcomes.labelValues(outcome).inc();
        }
    }
}
