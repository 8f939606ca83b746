package ai.distill.gateway;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.gateway.runtime.SessionConfig;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a {@link Gateway} needs to start: store, listen address, admin token, body limit,
 * batching (defaults and per-model overrides), ONNX Runtime session options and worker count.
 * Immutable; build with {@link #builder(Path)} or read with {@link #fromJson(Path, JsonObject)}.
 *
 * <pre>{@code
 * GatewayConfig config = GatewayConfig.builder(Path.of("store")).port(0)
 *     .batching(BatchingConfig.DEFAULT.withMaxBatchRows(128))
 *     .modelBatching("ctr", BatchingConfig.DEFAULT.withMaxQueueDelayMicros(200))
 *     .build();
 * }</pre>
 *
 * <p>JSON form ({@code serve --config FILE}; every key optional, unknown keys rejected):
 *
 * <pre>{@code
 * {"host": "0.0.0.0", "port": 8080, "admin_token": "...", "max_body_bytes": 67108864,
 *  "workers": 2, "event_loops": 2, "session": {"intra_op_threads": 1, "optimization_level": "all"},
 *  "batching": {"max_batch_rows": 256, "max_queue_delay_us": 0, "queue_capacity_rows": 2048},
 *  "models": {"ctr": {"batching": {"max_batch_rows": 64}}},
 *  "watch_interval_ms": 1000, "drain_timeout_ms": 30000, "shutdown_grace_ms": 1000,
 *  "jobs": {"runner": "child", "queue_capacity": 8}, "capture": {"fsync_interval_ms": 1000}}
 * }</pre>
 *
 * {@code capture.fsync_interval_ms}: how often captured rows are forced to disk (0: after every
 * batch of writes; see the README's "Durability").
 *
 * <p>When {@code queue_capacity_rows} is not given it is {@code 8 × max_batch_rows} ({@link
 * BatchingConfig#defaultQueueCapacity(int)}): a queue holding much more than a few batches of work
 * only adds latency under overload, it serves nothing more. When {@code workers} is not given it is
 * {@code max(1, cores / intra_op_threads)}, so that workers × intra-op threads ≤ cores.
 */
public final class GatewayConfig {

  private final Path store;
  private final String host;
  private final int port;
  private final String adminToken;
  private final long maxBodyBytes;
  private final int workers;
  private final int eventLoops;
  private final SessionConfig session;
  private final BatchingConfig batching;
  private final Map<String, BatchingConfig> modelBatching;
  private final Duration watchInterval;
  private final Duration drainTimeout;
  private final Duration shutdownGrace;
  private final JobsConfig jobs;
  private final Duration captureFsyncInterval;
  private final JsonArray policies;

  private GatewayConfig(Builder b) {
    this.store = b.store;
    this.host = b.host;
    this.port = b.port;
    this.adminToken = b.adminToken;
    this.maxBodyBytes = b.maxBodyBytes;
    this.session = b.session;
    this.workers =
        b.workers > 0
            ? b.workers
            : Math.max(1, Runtime.getRuntime().availableProcessors() / b.session.intraOpThreads());
    this.eventLoops =
        b.eventLoops > 0 ? b.eventLoops : Math.max(1, Runtime.getRuntime().availableProcessors());
    this.batching = b.batching;
    this.modelBatching = Map.copyOf(b.modelBatching);
    this.watchInterval = b.watchInterval;
    this.drainTimeout = b.drainTimeout;
    this.shutdownGrace = b.shutdownGrace;
    this.jobs = b.jobs;
    this.captureFsyncInterval = b.captureFsyncInterval;
    this.policies = b.policies;
  }

  public static Builder builder(Path store) {
    return new Builder(store);
  }

  /** The model store directory. */
  public Path store() {
    return store;
  }

  public String host() {
    return host;
  }

  /** The listen port; 0 picks an ephemeral port (see {@link Gateway#port()}). */
  public int port() {
    return port;
  }

  /** The admin token, or null to take {@code DISTILL_ADMIN_TOKEN} or generate one. */
  public String adminToken() {
    return adminToken;
  }

  /** Largest request body accepted; larger bodies get 413. */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /** ORT worker threads (concurrent session runs across all models). */
  public int workers() {
    return workers;
  }

  /** HTTP server instances, one per event loop, sharing the port (default: cores). */
  public int eventLoops() {
    return eventLoops;
  }

  public SessionConfig session() {
    return session;
  }

  /** Default batching for models without an override. */
  public BatchingConfig batching() {
    return batching;
  }

  /** Batching for {@code model}: its override, else the default. */
  public BatchingConfig batching(String model) {
    return modelBatching.getOrDefault(model, batching);
  }

  public Map<String, BatchingConfig> modelBatching() {
    return modelBatching;
  }

  /** How often the store is polled for new and removed versions. */
  public Duration watchInterval() {
    return watchInterval;
  }

  /** How long a graceful shutdown waits for in-flight requests. */
  public Duration drainTimeout() {
    return drainTimeout;
  }

  /**
   * How long a shutting-down gateway keeps listening with readiness 503 (new infer requests 503
   * too) before it stops accepting connections, so that load balancers see it leave.
   */
  public Duration shutdownGrace() {
    return shutdownGrace;
  }

  /** The {@code "policies"} section: recalibration policies as JSON (see the loop package). */
  public JsonArray policies() {
    return policies.copy();
  }

  /** How optimizer jobs run (the {@code "jobs"} section; see {@link JobsConfig}). */
  public JobsConfig jobs() {
    return jobs;
  }

  /** How often captured rows are forced to disk ({@code capture.fsync_interval_ms}). */
  public Duration captureFsyncInterval() {
    return captureFsyncInterval;
  }

  /** A builder pre-filled with this configuration. */
  public Builder toBuilder() {
    Builder b =
        new Builder(store)
            .host(host)
            .port(port)
            .adminToken(adminToken)
            .maxBodyBytes(maxBodyBytes)
            .workers(workers)
            .eventLoops(eventLoops)
            .session(session)
            .batching(batching)
            .watchInterval(watchInterval)
            .drainTimeout(drainTimeout)
            .shutdownGrace(shutdownGrace)
            .jobs(jobs)
            .captureFsyncInterval(captureFsyncInterval);
    b.policies = policies.copy();
    b.modelBatching.putAll(modelBatching);
    return b;
  }

  /** Reads a JSON configuration file (see the class javadoc) for {@code store}. */
  public static GatewayConfig fromFile(Path store, Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config " + file + ": " + e.getMessage(), e);
    }
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException e) {
      throw new IllegalArgumentException(
          "config " + file + " is not valid JSON: " + e.getMessage());
    }
    try {
      return fromJson(store, json).build();
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException("config " + file + ": " + e.getMessage(), e);
    }
  }

  /** A builder initialised from the JSON form (see the class javadoc). */
  public static Builder fromJson(Path store, JsonObject json) {
    checkKeys(
        json,
        "",
        Set.of(
            "host",
            "port",
            "admin_token",
            "max_body_bytes",
            "workers",
            "event_loops",
            "session",
            "batching",
            "models",
            "watch_interval_ms",
            "drain_timeout_ms",
            "shutdown_grace_ms",
            "jobs",
            "capture",
            "policies",
            "feedback_key", // read by scale.ScaleConfig
            "kafka"));
    Builder b = builder(store);
    if (json.containsKey("host")) {
      b.host(json.getString("host"));
    }
    if (json.containsKey("port")) {
      b.port(json.getInteger("port"));
    }
    if (json.containsKey("admin_token")) {
      b.adminToken(json.getString("admin_token"));
    }
    if (json.containsKey("max_body_bytes")) {
      b.maxBodyBytes(json.getLong("max_body_bytes"));
    }
    if (json.containsKey("workers")) {
      b.workers(json.getInteger("workers"));
    }
    if (json.containsKey("event_loops")) {
      b.eventLoops(json.getInteger("event_loops"));
    }
    if (json.containsKey("session")) {
      JsonObject s = json.getJsonObject("session");
      checkKeys(s, "session.", Set.of("intra_op_threads", "optimization_level"));
      b.session(
          new SessionConfig(
              s.getInteger("intra_op_threads", 1),
              SessionConfig.parseLevel(s.getString("optimization_level", "all"))));
    }
    if (json.containsKey("batching")) {
      b.batching(batching(json.getJsonObject("batching"), BatchingConfig.DEFAULT, "batching."));
    }
    if (json.containsKey("models")) {
      JsonObject models = json.getJsonObject("models");
      for (String model : models.fieldNames()) {
        JsonObject m = models.getJsonObject(model);
        String prefix = "models." + model + ".";
        checkKeys(m, prefix, Set.of("batching"));
        if (m.containsKey("batching")) {
          b.modelBatching(
              model, batching(m.getJsonObject("batching"), b.batching, prefix + "batching."));
        }
      }
    }
    if (json.containsKey("watch_interval_ms")) {
      b.watchInterval(Duration.ofMillis(json.getLong("watch_interval_ms")));
    }
    if (json.containsKey("drain_timeout_ms")) {
      b.drainTimeout(Duration.ofMillis(json.getLong("drain_timeout_ms")));
    }
    if (json.containsKey("shutdown_grace_ms")) {
      b.shutdownGrace(Duration.ofMillis(json.getLong("shutdown_grace_ms")));
    }
    if (json.containsKey("jobs")) {
      b.jobs(JobsConfig.fromJson(json.getJsonObject("jobs")));
    }
    if (json.getValue("policies") instanceof JsonArray policies) {
      b.policies = policies.copy(); // read by the recalibration loop (RecalibrationPolicy)
    } else if (json.containsKey("policies")) {
      throw new IllegalArgumentException("policies: expected an array of recalibration policies");
    }
    if (json.containsKey("capture")) {
      JsonObject c = json.getJsonObject("capture");
      checkKeys(c, "capture.", Set.of("fsync_interval_ms"));
      if (c.containsKey("fsync_interval_ms")) {
        b.captureFsyncInterval(Duration.ofMillis(c.getLong("fsync_interval_ms")));
      }
    }
    return b;
  }

  private static BatchingConfig batching(JsonObject json, BatchingConfig base, String prefix) {
    checkKeys(json, prefix, Set.of("max_batch_rows", "max_queue_delay_us", "queue_capacity_rows"));
    int maxBatchRows = json.getInteger("max_batch_rows", base.maxBatchRows());
    // A new max_batch_rows scales a default capacity with it; an explicit one is inherited.
    boolean baseDefault =
        base.queueCapacityRows() == BatchingConfig.defaultQueueCapacity(base.maxBatchRows());
    int capacity =
        json.containsKey("queue_capacity_rows")
            ? json.getInteger("queue_capacity_rows")
            : baseDefault
                ? BatchingConfig.defaultQueueCapacity(maxBatchRows)
                : base.queueCapacityRows();
    return new BatchingConfig(
        maxBatchRows, json.getLong("max_queue_delay_us", base.maxQueueDelayMicros()), capacity);
  }

  private static void checkKeys(JsonObject json, String prefix, Set<String> known) {
    for (String key : json.fieldNames()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            "unknown key '"
                + prefix
                + key
                + "' (expected one of "
                + known.stream().sorted().toList()
                + ")");
      }
    }
  }

  @Override
  public String toString() {
    return "GatewayConfig{store="
        + store
        + ", host="
        + host
        + ", port="
        + port
        + ", maxBodyBytes="
        + maxBodyBytes
        + ", workers="
        + workers
        + ", eventLoops="
        + eventLoops
        + ", session="
        + session
        + ", batching="
        + batching
        + ", modelBatching="
        + modelBatching
        + "}";
  }

  /** Builds a {@link GatewayConfig}; setters validate and fail fast. */
  public static final class Builder {
    private final Path store;
    private String host = "0.0.0.0";
    private int port = 8080;
    private String adminToken;
    private long maxBodyBytes = 64L << 20;
    private int workers;
    private int eventLoops;
    private SessionConfig session = SessionConfig.DEFAULT;
    private BatchingConfig batching = BatchingConfig.DEFAULT;
    private final Map<String, BatchingConfig> modelBatching = new LinkedHashMap<>();
    private Duration watchInterval = Duration.ofSeconds(1);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private Duration shutdownGrace = Duration.ofSeconds(1);
    private JobsConfig jobs = JobsConfig.DEFAULT;
    private Duration captureFsyncInterval = Duration.ofSeconds(1);
    private JsonArray policies = new JsonArray();

    private Builder(Path store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port : " + port + " (expected: 0..65535)");
      }
      this.port = port;
      return this;
    }

    public Builder adminToken(String token) {
      if (token != null && token.isBlank()) {
        throw new IllegalArgumentException("admin token is blank (expected: a non-empty secret)");
      }
      this.adminToken = token;
      return this;
    }

    public Builder maxBodyBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("max_body_bytes : " + bytes + " (expected: >= 1)");
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /** Worker threads for ORT runs; 0 means {@code max(1, cores / intra_op_threads)}. */
    public Builder workers(int workers) {
      if (workers < 0) {
        throw new IllegalArgumentException("workers : " + workers + " (expected: >= 0)");
      }
      this.workers = workers;
      return this;
    }

    /** HTTP server instances (event loops) sharing the port; 0 means one per core. */
    public Builder eventLoops(int eventLoops) {
      if (eventLoops < 0) {
        throw new IllegalArgumentException("event_loops : " + eventLoops + " (expected: >= 0)");
      }
      this.eventLoops = eventLoops;
      return this;
    }

    public Builder session(SessionConfig session) {
      this.session = Objects.requireNonNull(session, "session");
      return this;
    }

    public Builder batching(BatchingConfig batching) {
      this.batching = Objects.requireNonNull(batching, "batching");
      return this;
    }

    public Builder modelBatching(String model, BatchingConfig batching) {
      modelBatching.put(
          Objects.requireNonNull(model, "model"), Objects.requireNonNull(batching, "batching"));
      return this;
    }

    public Builder watchInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("watch_interval : " + interval + " (expected: > 0)");
      }
      this.watchInterval = interval;
      return this;
    }

    public Builder drainTimeout(Duration timeout) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("drain_timeout : " + timeout + " (expected: >= 0)");
      }
      this.drainTimeout = timeout;
      return this;
    }

    public Builder shutdownGrace(Duration grace) {
      if (grace.isNegative()) {
        throw new IllegalArgumentException("shutdown_grace : " + grace + " (expected: >= 0)");
      }
      this.shutdownGrace = grace;
      return this;
    }

    public Builder captureFsyncInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException(
            "capture.fsync_interval_ms: " + interval.toMillis() + " (expected: >= 0)");
      }
      this.captureFsyncInterval = interval;
      return this;
    }

    public Builder jobs(JobsConfig jobs) {
      this.jobs = Objects.requireNonNull(jobs, "jobs");
      return this;
    }

    public GatewayConfig build() {
      return new GatewayConfig(this);
    }
  }
}
