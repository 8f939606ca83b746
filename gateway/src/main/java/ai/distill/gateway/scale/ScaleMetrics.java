package ai.distill.gateway.scale;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Experiment-event delivery and folding metrics. Thread-safe. */
public final class ScaleMetrics {

  private final Counter events;
  private final Counter folded;
  private final Gauge lag;

  private ScaleMetrics(PrometheusRegistry registry) {
    events =
        Counter.builder()
            .name("distill_kafka_events_total")
            .help(
                "Experiment events by outcome: published (acknowledged by the brokers), dropped"
                    + " (buffer full: inference never waits), failed (not delivered)")
            .labelNames("outcome")
            .register(registry);
    folded =
        Counter.builder()
            .name("distill_kafka_events_folded_total")
            .help("Experiment events read from Kafka, by outcome (counted, duplicate, invalid)")
            .labelNames("outcome")
            .register(registry);
    lag =
        Gauge.builder()
            .name("distill_kafka_consumer_lag_records")
            .help("Experiment events on the topic this instance has not folded yet")
            .register(registry);
  }

  public static ScaleMetrics register(PrometheusRegistry registry) {
    return new ScaleMetrics(registry == null ? new PrometheusRegistry() : registry);
  }

  void event(String outcome) {
    events.labelValues(outcome).inc();
  }

  long events(String outcome) {
    return (long) events.labelValues(outcome).get();
  }

  void folded(String outcome) {
    folded.labelValues(outcome).inc();
  }

  void lag(long records) {
    lag.set(records);
  }

  long lag() {
    return (long) lag.get();
  }
}
