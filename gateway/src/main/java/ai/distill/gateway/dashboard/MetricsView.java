package ai.distill.gateway.dashboard;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Label;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /dashboard/api/metrics}: the gateway's own metric families ({@code distill_*}) read
 * from the registry's snapshot and written as JSON, so the page needs no exposition-format parser.
 * Names are the exposition names (counters end in {@code _total}); histograms carry cumulative
 * classic buckets ({@code le} of the last is {@code "+Inf"}), count and sum. The page derives rates
 * and quantiles from the differences between two polls, as PromQL's {@code rate} would.
 *
 * <pre>{@code
 * {"ts": 1767225600000, "families": {"distill_requests_total": [
 *   {"labels": {"model": "ctr", "version": "1", "outcome": "ok"}, "value": 42.0}], ...}}
 * }</pre>
 */
final class MetricsView implements Handler<RoutingContext> {

  private static final String PREFIX = "distill_";

  private final PrometheusRegistry registry;

  MetricsView(PrometheusRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(json().toBuffer());
  }

  JsonObject json() {
    JsonObject families = new JsonObject();
    for (MetricSnapshot s : registry.scrape(name -> name.startsWith(PREFIX))) {
      String name = s.getMetadata().getPrometheusName();
      JsonArray points = new JsonArray();
      if (s instanceof CounterSnapshot c) {
        name = name + "_total";
        for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
          points.add(point(p).put("value", p.getValue()));
        }
      } else if (s instanceof GaugeSnapshot g) {
        for (GaugeSnapshot.GaugeDataPointSnapshot p : g.getDataPoints()) {
          points.add(point(p).put("value", finite(p.getValue())));
        }
      } else if (s instanceof HistogramSnapshot h) {
        for (HistogramSnapshot.HistogramDataPointSnapshot p : h.getDataPoints()) {
          points.add(histogram(p));
        }
      } else {
        continue;
      }
      families.put(name, points);
    }
    return new JsonObject().put("ts", System.currentTimeMillis()).put("families", families);
  }

  private static JsonObject histogram(HistogramSnapshot.HistogramDataPointSnapshot p) {
    JsonArray buckets = new JsonArray();
    if (p.hasClassicHistogramData()) {
      ClassicHistogramBuckets b = p.getClassicBuckets();
      long cumulative = 0;
      for (int i = 0; i < b.size(); i++) {
        cumulative += b.getCount(i);
        double le = b.getUpperBound(i);
        buckets.add(new JsonArray().add(Double.isInfinite(le) ? "+Inf" : le).add(cumulative));
      }
    }
    return point(p)
        .put("count", p.hasCount() ? p.getCount() : 0)
        .put("sum", p.hasSum() ? finite(p.getSum()) : 0.0)
        .put("buckets", buckets);
  }

  private static JsonObject point(DataPointSnapshot p) {
    JsonObject labels = new JsonObject();
    for (Label l : p.getLabels()) {
      labels.put(l.getName(), l.getValue());
    }
    return new JsonObject().put("labels", labels);
  }

  // JSON has no NaN or infinities.
  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
