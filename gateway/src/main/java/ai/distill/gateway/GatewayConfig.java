package ai.distill.gateway;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.gateway.runtime.ModelPolicy;
import ai.distill.gateway.runtime.SessionConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

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
 * <p>JSON form ({@code serve --config FILE}; every key optional, unknown keys rejected; defaults
 * and what each key means: {@link GatewayConfigJson}):
 *
 * <pre>{@code
 * {"host": "0.0.0.0", "port": 8080, "grpc_port": 8081, "admin_token": "...", "max_body_bytes": 67108864,
 *  "max_rows_per_request": 100000, "stream": {"max_rows": 0, "stall_timeout_ms": 30000},
 *  "workers": 2, "event_loops": 2, "session": {"intra_op_threads": 1, "optimization_level": "all"},
 *  "batching": {"max_batch_rows": 256, "max_queue_delay_us": 0, "queue_capacity_rows": 2048},
 *  "models": {"ctr": {"batching": {"max_batch_rows": 64}, "allow_non_finite": false}},
 *  "watch_interval_ms": 1000, "drain_timeout_ms": 30000, "shutdown_grace_ms": 1000,
 *  "jobs": {"runner": "child", "queue_capacity": 8}, "capture": {"fsync_interval_ms": 1000}}
 * }</pre>
 */
public final class GatewayConfig {

  private final Path store;
  private final String host;
  private final int port;
  private final int grpcPort;
  private final boolean grpcPortSet;
  private final String adminToken;
  private final long maxBodyBytes;
  private final RequestLimits limits;
  private final int workers;
  private final int eventLoops;
  private final SessionConfig session;
  private final BatchingConfig batching;
  private final Map<String, BatchingConfig> modelBatching;
  private final Map<String, ModelPolicy> modelPolicies;
  private final Duration watchInterval;
  private final Duration drainTimeout;
  private final Duration shutdownGrace;
  private final JobsConfig jobs;
  private final Duration captureFsyncInterval;
  private final Duration streamStallTimeout;
  private final Duration idleTimeout;
  private final Duration requestBodyTimeout;
  private final JsonArray policies;
  private final Path stateDir;

  private GatewayConfig(Builder b) {
    this.store = b.store;
    this.stateDir = b.stateDir != null ? b.stateDir : b.store;
    this.host = b.host;
    this.port = b.port;
    this.grpcPort = b.grpcPort;
    this.grpcPortSet = b.grpcPortSet;
    this.adminToken = b.adminToken;
    this.maxBodyBytes = b.maxBodyBytes;
    this.limits = b.limits;
    this.session = b.session;
    this.workers =
        b.workers > 0
            ? b.workers
            : Math.max(1, Runtime.getRuntime().availableProcessors() / b.session.intraOpThreads());
    this.eventLoops =
        b.eventLoops > 0 ? b.eventLoops : Math.max(1, Runtime.getRuntime().availableProcessors());
    this.batching = b.batching;
    this.modelBatching = Map.copyOf(b.modelBatching);
    this.modelPolicies = Map.copyOf(b.modelPolicies);
    this.watchInterval = b.watchInterval;
    this.drainTimeout = b.drainTimeout;
    this.shutdownGrace = b.shutdownGrace;
    this.jobs = b.jobs;
    this.captureFsyncInterval = b.captureFsyncInterval;
    this.streamStallTimeout = b.streamStallTimeout;
    this.idleTimeout = b.idleTimeout;
    this.requestBodyTimeout = b.requestBodyTimeout;
    this.policies = b.policies;
  }

  public static Builder builder(Path store) {
    return new Builder(store);
  }

  /** The model store directory. */
  public Path store() {
    return store;
  }

  /**
   * Where this instance keeps its own state (experiment snapshots, pending impressions, capture
   * segments, job records): the store itself, or {@code <store>/instances/<id>} when several
   * instances share the store.
   */
  public Path stateDir() {
    return stateDir;
  }

  public String host() {
    return host;
  }

  /** The listen port; 0 picks an ephemeral port (see {@link Gateway#port()}). */
  public int port() {
    return port;
  }

  /**
   * The gRPC (OIP v2) port: 0 disables gRPC (the builder's default; {@code serve} defaults to
   * {@value #DEFAULT_GRPC_PORT}), -1 picks an ephemeral port (see {@link Gateway#grpcPort()}).
   */
  public int grpcPort() {
    return grpcPort;
  }

  /** The gRPC port {@code serve} listens on unless told otherwise. */
  public static final int DEFAULT_GRPC_PORT = 8081;

  /** The admin token, or null to take {@code DISTILL_ADMIN_TOKEN} or generate one. */
  public String adminToken() {
    return adminToken;
  }

  /** Largest request body accepted; larger bodies get 413. */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /** Rows per request and per stream ({@code max_rows_per_request}, {@code stream.max_rows}). */
  public RequestLimits limits() {
    return limits;
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

  /**
   * The guard policy of {@code model} (input checks, timeout, circuit breaker; see ModelPolicy).
   */
  public ModelPolicy modelPolicy(String model) {
    return modelPolicies.getOrDefault(model, ModelPolicy.DEFAULT);
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

  /**
   * How long an NDJSON or gRPC stream's client may read nothing before its stream is failed ({@code
   * stream.stall_timeout_ms}, default 30 s).
   */
  public Duration streamStallTimeout() {
    return streamStallTimeout;
  }

  /**
   * How long an HTTP connection may send and receive nothing before it is closed ({@code
   * idle_timeout_ms}, default 60 s): an unfinished request head or body, an idle keep-alive
   * connection.
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /**
   * How long a request body may take after its head ({@code request_body_timeout_ms}, default 60 s;
   * NDJSON streams excepted).
   */
  public Duration requestBodyTimeout() {
    return requestBodyTimeout;
  }

  /** A builder pre-filled with this configuration. */
  public Builder toBuilder() {
    Builder b =
        new Builder(store)
            .host(host)
            .port(port)
            .adminToken(adminToken)
            .maxBodyBytes(maxBodyBytes)
            .limits(limits)
            .workers(workers)
            .eventLoops(eventLoops)
            .session(session)
            .batching(batching)
            .watchInterval(watchInterval)
            .drainTimeout(drainTimeout)
            .shutdownGrace(shutdownGrace)
            .jobs(jobs)
            .captureFsyncInterval(captureFsyncInterval)
            .streamStallTimeout(streamStallTimeout)
            .requestTimeouts(idleTimeout, requestBodyTimeout);
    b.policies = policies.copy();
    b.modelBatching.putAll(modelBatching);
    b.modelPolicies.putAll(modelPolicies);
    b.grpcPort = grpcPort;
    b.grpcPortSet = grpcPortSet;
    b.stateDir = stateDir.equals(store) ? null : stateDir;
    return b;
  }

  /** Reads a JSON configuration file (see the class javadoc) for {@code store}. */
  public static GatewayConfig fromFile(Path store, Path file) {
    return GatewayConfigJson.fromFile(store, file);
  }

  /** A builder initialised from the JSON form (see the class javadoc). */
  public static Builder fromJson(Path store, JsonObject json) {
    return GatewayConfigJson.fromJson(store, json);
  }

  @Override
  public String toString() {
    return String.format(
        "GatewayConfig{store=%s, host=%s, port=%d, grpcPort=%d, maxBodyBytes=%d, limits=%s,"
            + " workers=%d, eventLoops=%d, session=%s, batching=%s, modelBatching=%s}",
        store,
        host,
        port,
        grpcPort,
        maxBodyBytes,
        limits,
        workers,
        eventLoops,
        session,
        batching,
        modelBatching);
  }

  /** Builds a {@link GatewayConfig}; setters validate and fail fast. */
  public static final class Builder {
    private final Path store;
    private String host = "0.0.0.0";
    private int port = 8080;
    private int grpcPort;
    private boolean grpcPortSet;
    private String adminToken;
    private long maxBodyBytes = 64L << 20;
    private RequestLimits limits = RequestLimits.DEFAULT;
    private int workers;
    private int eventLoops;
    private SessionConfig session = SessionConfig.DEFAULT;
    BatchingConfig batching = BatchingConfig.DEFAULT; // read by GatewayConfigJson
    private final Map<String, BatchingConfig> modelBatching = new LinkedHashMap<>();
    private final Map<String, ModelPolicy> modelPolicies = new LinkedHashMap<>();
    private Duration watchInterval = Duration.ofSeconds(1);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private Duration shutdownGrace = Duration.ofSeconds(1);
    private JobsConfig jobs = JobsConfig.DEFAULT;
    private Duration captureFsyncInterval = Duration.ofSeconds(1);
    private Duration streamStallTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofSeconds(60);
    private Duration requestBodyTimeout = Duration.ofSeconds(60);
    private JsonArray policies = new JsonArray();
    private Path stateDir;

    private Builder(Path store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    /** This instance's own state directory (default: the store). */
    public Builder stateDir(Path dir) {
      this.stateDir = dir;
      return this;
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

    /** The gRPC port: 0 disables gRPC, -1 picks an ephemeral port. */
    public Builder grpcPort(int port) {
      if (port < -1 || port > 65535) {
        throw new IllegalArgumentException(
            "grpc_port : " + port + " (expected: 0 to disable, 1..65535, or -1 for any free port)");
      }
      this.grpcPort = port;
      this.grpcPortSet = true;
      return this;
    }

    /** True once {@link #grpcPort(int)} was called (by code or the config file). */
    public boolean grpcPortSet() {
      return grpcPortSet;
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

    public Builder modelPolicy(String model, ModelPolicy policy) {
      modelPolicies.put(Objects.requireNonNull(model, "model"), Objects.requireNonNull(policy));
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

    /** See {@link #idleTimeout()} and {@link #requestBodyTimeout()}. */
    public Builder requestTimeouts(Duration idle, Duration body) {
      if (idle.isNegative() || idle.isZero() || body.isNegative() || body.isZero()) {
        throw new IllegalArgumentException(
            "idle_timeout_ms: "
                + idle.toMillis()
                + ", request_body_timeout_ms: "
                + body.toMillis()
                + " (expected: > 0)");
      }
      this.idleTimeout = idle;
      this.requestBodyTimeout = body;
      return this;
    }

    public Builder limits(RequestLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    public Builder streamStallTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(
            "stream.stall_timeout_ms: " + timeout.toMillis() + " (expected: > 0)");
      }
      this.streamStallTimeout = timeout;
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

    /** The {@code "policies"} section as JSON (checked by the recalibration loop at start). */
    public Builder policies(JsonArray policies) {
      this.policies = policies.copy();
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
