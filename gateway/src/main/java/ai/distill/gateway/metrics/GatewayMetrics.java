package ai.distill.gateway.metrics;

import ai.distill.gateway.batching.BatchObserver;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's Prometheus metrics, all prefixed {@code distill_} and in base units, labelled by
 * {@code model} and {@code version} (and, on the request series, the {@code transport} that carried
 * the request), never by user or request.
 *
 * <pre>{@code
 * GatewayMetrics metrics = GatewayMetrics.register(new PrometheusRegistry(), true);
 * metrics.request("ctr", "3", Outcome.OK, nanos);
 * }</pre>
 *
 * <p>Thread-safe; owns no native resources.
 */
public final class GatewayMetrics {

  /** How a request ended; the {@code outcome} label of {@code distill_requests_total}. */
  public enum Outcome {
    OK("ok"),
    BAD_REQUEST("bad_request"),
    NOT_FOUND("not_found"),
    QUEUE_FULL("queue_full"),
    UNAVAILABLE("unavailable"),
    ERROR("error");

    private final String label;

    Outcome(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** What carried a request; the {@code transport} label of the request series. */
  public enum Transport {
    HTTP("http"),
    GRPC("grpc"),
    STREAM("stream");

    private final String label;

    Transport(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  // Dense where serving p99s live (1-10 ms: steps of at most 25%), sparse beyond 100 ms. A
  // Prometheus that negotiates protobuf also gets a native (exponential) histogram.
  static final double[] LATENCY_BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.00175, 0.002, 0.0025, 0.003, 0.0035,
    0.004, 0.005, 0.006, 0.007, 0.008, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10
  };
  private static final double[] ROW_BUCKETS = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096
  };

  private final PrometheusRegistry registry;
  private final Counter requests;
  private final Histogram requestSeconds;
  private final Histogram queueSeconds;
  private final Histogram computeSeconds;
  private final Histogram batchRows;
  private final Gauge queueDepth;
  private final Gauge inFlight;
  private final Gauge loadedVersions;
  private final Counter loadFailures;
  private final Counter modelLoads;
  private final Gauge buildInfo;

  private GatewayMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    requests =
        Counter.builder()
            .name("distill_requests_total")
            .help("Inference requests by model, version, outcome and transport")
            .labelNames("model", "version", "outcome", "transport")
            .register(registry);
    requestSeconds =
        Histogram.builder()
            .name("distill_request_duration_seconds")
            .help("Inference request latency from decoded request to encoded response")
            .labelNames("model", "version", "transport")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    queueSeconds =
        Histogram.builder()
            .name("distill_queue_wait_seconds")
            .help("Time a request waited in its batcher's queue")
            .labelNames("model", "version")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    computeSeconds =
        Histogram.builder()
            .name("distill_compute_duration_seconds")
            .help("ONNX Runtime time per batch, including stacking inputs and splitting outputs")
            .labelNames("model", "version")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    batchRows =
        Histogram.builder()
            .name("distill_batch_rows")
            .help("Rows per batch run by ONNX Runtime")
            .labelNames("model", "version")
            .classicOnly()
            .classicUpperBounds(ROW_BUCKETS)
            .register(registry);
    queueDepth =
        Gauge.builder()
            .name("distill_queue_depth")
            .help("Requests waiting in a batcher's queue")
            .labelNames("model", "version")
            .register(registry);
    inFlight =
        Gauge.builder()
            .name("distill_inflight_requests")
            .help("Requests accepted and not yet answered")
            .labelNames("model", "version")
            .register(registry);
    loadedVersions =
        Gauge.builder()
            .name("distill_loaded_versions")
            .help("Versions of a model loaded and serving")
            .labelNames("model")
            .register(registry);
    loadFailures =
        Counter.builder()
            .name("distill_model_load_failures_total")
            .help("Model versions that failed to load (corrupt file, checksum mismatch, bad graph)")
            .labelNames("model")
            .register(registry);
    modelLoads =
        Counter.builder()
            .name("distill_model_loads_total")
            .help("Model versions loaded successfully")
            .labelNames("model")
            .register(registry);
    buildInfo =
        Gauge.builder()
            .name("distill_build_info")
            .help("Always 1; the version label is the gateway's build")
            .labelNames("version")
            .register(registry);
    buildInfo.labelValues(BuildInfo.version()).set(1);
  }

  /** Registers the gateway metrics (and, when {@code jvm}, the JVM metrics) in {@code registry}. */
  public static GatewayMetrics register(PrometheusRegistry registry, boolean jvm) {
    GatewayMetrics metrics = new GatewayMetrics(registry);
    if (jvm) {
      JvmMetrics.builder().register(registry);
    }
    return metrics;
  }

  /** The registry the metrics live in. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Counts a finished HTTP request; see {@link #request(String, String, Outcome, long, Transport)}.
   */
  public void request(String model, String version, Outcome outcome, long nanos) {
    request(model, version, outcome, nanos, Transport.HTTP);
  }

  /**
   * Counts a finished request (for a stream: one micro-batch or message); {@code nanos} is observed
   * as latency for {@link Outcome#OK}.
   */
  public void request(
      String model, String version, Outcome outcome, long nanos, Transport transport) {
    requests.labelValues(model, version, outcome.label(), transport.label()).inc();
    if (outcome == Outcome.OK) {
      requestSeconds.labelValues(model, version, transport.label()).observe(seconds(nanos));
    }
  }

  public void inFlight(String model, String version, int delta) {
    inFlight.labelValues(model, version).inc(delta);
  }

  public void loadedVersions(String model, int count) {
    loadedVersions.labelValues(model).set(count);
  }

  public void loadFailed(String model) {
    loadFailures.labelValues(model).inc();
  }

  public void loaded(String model) {
    modelLoads.labelValues(model).inc();
  }

  /**
   * The value of {@code distill_model_load_failures_total} for {@code model} (for tests and logs).
   */
  public double loadFailures(String model) {
    return loadFailures.labelValues(model).get();
  }

  /** A batch observer feeding the queue, compute and batch-rows metrics of one version. */
  public BatchObserver batchObserver(String model, String version) {
    var depth = queueDepth.labelValues(model, version);
    var wait = queueSeconds.labelValues(model, version);
    var compute = computeSeconds.labelValues(model, version);
    var rows = batchRows.labelValues(model, version);
    return new BatchObserver() {
      @Override
      public void queueDepth(int requests, int queuedRows) {
        depth.set(requests);
      }

      @Override
      public void queueWait(long nanos) {
        wait.observe(seconds(nanos));
      }

      @Override
      public void batchRan(int batchRows, long nanos) {
        rows.observe(batchRows);
        compute.observe(seconds(nanos));
      }
    };
  }

  /**
   * Drops every series of an unloaded version (counters and histograms too), so label sets stay
   * bounded across hot swaps. Series are matched on their first two labels, model and version.
   */
  public void forgetVersion(String model, String version) {
    java.util.function.Function<java.util.List<String>, Boolean> ofVersion =
        labels ->
            labels.size() >= 2 && labels.get(0).equals(model) && labels.get(1).equals(version);
    requests.removeIf(ofVersion);
    requestSeconds.removeIf(ofVersion);
    queueSeconds.removeIf(ofVersion);
    computeSeconds.removeIf(ofVersion);
    batchRows.removeIf(ofVersion);
    queueDepth.removeIf(ofVersion);
    inFlight.removeIf(ofVersion);
  }

  private static double seconds(long nanos) {
    return nanos / (double) TimeUnit.SECONDS.toNanos(1);
  }
}
