package ai.distill.gateway.loop;

import ai.distill.gateway.capture.RecentRows;
import ai.distill.optimizer.drift.DriftReport;
import ai.distill.optimizer.drift.PsiCalculator;
import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.rows.Row;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Measures how far the live inputs of a served INT8 model drifted from the rows it was calibrated
 * on: the PSI per input column of the newest captured rows of its stream against the {@link
 * ReferenceSketch} in its manifest (so the calibration rows themselves are not needed), exported as
 * {@code distill_drift_psi{model,column}} with {@code distill_drift_psi_max{model}} and {@code
 * distill_drift_new_rows{model}} (rows captured since the version was published). Blocking (reads
 * the store and the capture); thread-safe.
 *
 * <pre>{@code
 * DriftMonitor drift = new DriftMonitor(store, registry);
 * DriftMonitor.Check c = drift.check(policy);   // c.report().max() > policy.psiThreshold() ...
 * }</pre>
 */
public final class DriftMonitor {

  /**
   * One measurement.
   *
   * @param version the served version measured against
   * @param report the PSI per column, or null when the version has no sketch or no rows were
   *     captured yet
   * @param windowRows captured rows the PSI was computed on
   * @param newRows of those, rows captured after the version was published
   * @param publishedMillis when the version was published
   * @param note why there is no report, or null
   * @param timestamps capture times (epoch millis) of the window's rows, oldest first
   */
  public record Check(
      ModelVersion version,
      DriftReport report,
      int windowRows,
      long newRows,
      long publishedMillis,
      String note,
      long[] timestamps) {

    /** Rows of the window captured after {@code millis}. */
    public long rowsAfter(long millis) {
      long n = 0;
      for (long t : timestamps) {
        if (t > millis) {
          n++;
        }
      }
      return n;
    }
  }

  private final ModelStore store;
  private final Gauge psi;
  private final Gauge psiMax;
  private final Gauge newRows;

  public DriftMonitor(ModelStore store, PrometheusRegistry registry) {
    this.store = store;
    this.psi =
        Gauge.builder()
            .name("distill_drift_psi")
            .help(
                "Population stability index of each input column of the newest captured rows "
                    + "against the rows the model was calibrated on (0.1 moderate, 0.25 a real shift)")
            .labelNames("model", "column")
            .register(registry);
    this.psiMax =
        Gauge.builder()
            .name("distill_drift_psi_max")
            .help("The largest input column PSI of the model (see distill_drift_psi)")
            .labelNames("model")
            .register(registry);
    this.newRows =
        Gauge.builder()
            .name("distill_drift_new_rows")
            .help("Captured rows of the newest window that arrived after the model was published")
            .labelNames("model")
            .register(registry);
  }

  /** Measures the drift of {@code policy}'s model (its store's latest version) now. */
  public Check check(RecalibrationPolicy policy) {
    Optional<ModelVersion> latest = store.latest(policy.model());
    if (latest.isEmpty()) {
      return new Check(
          null, null, 0, 0, 0, "model '" + policy.model() + "' is not in the store", new long[0]);
    }
    ModelVersion v = latest.get();
    long published = v.manifest().created() == null ? 0 : v.manifest().created().toEpochMilli();
    List<Row> rows =
        RecentRows.read(store.capturesDir().resolve(policy.stream()), policy.windowRows());
    long[] ts = new long[rows.size()];
    long fresh = 0;
    for (int i = 0; i < ts.length; i++) {
      ts[i] = RecentRows.timestamp(rows.get(i));
      fresh += ts[i] > published ? 1 : 0;
    }
    newRows.labelValues(policy.model()).set(fresh);
    Optional<ReferenceSketch> sketch;
    try {
      sketch = ReferenceSketch.fromMetrics(v.manifest().metrics());
    } catch (RuntimeException e) {
      return new Check(
          v,
          null,
          rows.size(),
          fresh,
          published,
          "unreadable reference sketch: " + e.getMessage(),
          ts);
    }
    if (sketch.isEmpty()) {
      return new Check(
          v,
          null,
          rows.size(),
          fresh,
          published,
          v.id() + " has no reference sketch in its manifest (quantize it with this version)",
          ts);
    }
    if (rows.size() < policy.minRows()) {
      // PSI over few rows is mostly sampling noise (about bins / rows): wait for a full sample.
      return new Check(
          v,
          null,
          rows.size(),
          fresh,
          published,
          rows.size()
              + " rows captured in captures/"
              + policy.stream()
              + ", "
              + policy.minRows()
              + " needed to measure drift",
          ts);
    }
    DriftReport report = new PsiCalculator(sketch.get()).compute(rows);
    for (Map.Entry<String, Double> e : report.psi().entrySet()) {
      if (Double.isFinite(e.getValue())) {
        psi.labelValues(policy.model(), e.getKey()).set(e.getValue());
      }
    }
    if (Double.isFinite(report.max())) {
      psiMax.labelValues(policy.model()).set(report.max());
    }
    return new Check(v, report, rows.size(), fresh, published, null, ts);
  }

  /** Forgets the series of a model whose policy was removed. */
  public void forget(String model) {
    psiMax.remove(model);
    newRows.remove(model);
    psi.removeIf(labels -> labels.get(0).equals(model));
  }
}
