package ai.distill.gateway.scale;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Experiment-event delivery and folding metrics. Thread-safe. */
public final class ScaleMetrics {

  private final Counter records;
  private final Counter folded;
  private final Gauge lag;

  private final PrometheusRegistry registry;

  private ScaleMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    records =
        Counter.builder()
            .name("distill_kafka_records_total")
            .help(
                "Records sent to Kafka by kind (event, decision, capture) and outcome: published"
                    + " (acknowledged by the brokers), dropped (buffer full: inference never waits),"
                    + " failed (not delivered)")
            .labelNames("kind", "outcome")
            .register(registry);
    folded =
        Counter.builder()
            .name("distill_kafka_events_folded_total")
            .help(
                "Experiment events read from Kafka, by outcome (counted, duplicate, invalid;"
                    + " expired: counted, then dropped while waiting for a definition)")
            .labelNames("outcome")
            .register(registry);
    lag =
        Gauge.builder()
            .name("distill_kafka_consumer_lag_records")
            .help("Experiment events on the topic this instance has not folded yet")
            .register(registry);
  }

  /** {@code distill_kafka_decider}: 1 while this instance takes the experiment decisions. */
  void decider(java.util.function.BooleanSupplier decides) {
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
        .name("distill_kafka_decider")
        .help("1 while this instance takes the experiment decisions (elected by Kafka), else 0")
        .callback(cb -> cb.call(decides.getAsBoolean() ? 1 : 0))
        .register(registry);
  }

  public static ScaleMetrics register(PrometheusRegistry registry) {
    return new ScaleMetrics(registry == null ? new PrometheusRegistry() : registry);
  }

  void record(String kind, String outcome) {
    records.labelValues(kind, outcome).inc();
  }

  long records(String kind, String outcome) {
    return (long) records.labelValues(kind, outcome).get();
  }

  void folded(String outcome) {
    folded.labelValues(outcome).inc();
  }

  long foldedCount(String outcome) {
    return (long) folded.labelValues(outcome).get();
  }

  void lag(long records) {
    lag.set(records);
  }

  long lag() {
    return (long) lag.get();
  }
}
