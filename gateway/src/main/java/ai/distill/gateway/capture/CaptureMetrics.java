package ai.distill.gateway.capture;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Capture and feedback counters: rows written and records dropped per stream (a model or experiment
 * name) and reason, feedback outcomes. Bounded labels only. Thread-safe.
 */
public class CaptureMetrics {

  public static final CaptureMetrics NOOP = new CaptureMetrics();

  private final Counter written;
  private final Counter dropped;

  private CaptureMetrics() {
    written = null;
    dropped = null;
  }

  private CaptureMetrics(PrometheusRegistry registry) {
    written =
        Counter.builder()
            .name("distill_capture_rows_written_total")
            .help("Captured rows written to segments")
            .labelNames("stream")
            .register(registry);
    dropped =
        Counter.builder()
            .name("distill_capture_dropped_total")
            .help("Capture records dropped instead of delaying or failing a request")
            .labelNames("stream", "reason")
            .register(registry);
  }

  public static CaptureMetrics register(PrometheusRegistry registry) {
    return new CaptureMetrics(registry);
  }

  void written(String stream, int rows) {
    if (written != null) {
      written.labelValues(stream).inc(rows);
    }
  }

  void dropped(String stream, String reason) {
    if (dropped != null) {
      dropped.labelValues(stream, reason).inc();
    }
  }
}
