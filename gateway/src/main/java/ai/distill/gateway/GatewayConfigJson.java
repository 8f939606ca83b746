package ai.distill.gateway;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.gateway.runtime.ModelPolicy;
import ai.distill.gateway.runtime.SessionConfig;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Reads {@link GatewayConfig}'s JSON form (see its javadoc): every key optional, unknown keys
 * rejected.
 *
 * <p>{@code capture.fsync_interval_ms}: how often captured rows are forced to disk (0: after every
 * batch of writes; see the README's "Durability"). When {@code queue_capacity_rows} is not given it
 * is {@code 8 × max_batch_rows} ({@link
 * ai.distill.gateway.batching.BatchingConfig#defaultQueueCapacity(int)}): a queue holding much more
 * than a few batches of work only adds latency under overload, it serves nothing more. When {@code
 * workers} is not given it is {@code max(1, cores / intra_op_threads)}, so that workers × intra-op
 * threads ≤ cores. {@code max_rows_per_request} (default 100,000) and {@code stream.max_rows}
 * (default 0, no limit): {@link RequestLimits}.
 */
final class GatewayConfigJson {

  private GatewayConfigJson() {}

  /** Reads a JSON configuration file (see the class javadoc) for {@code store}. */
  static GatewayConfig fromFile(Path store, Path file) {
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
  static GatewayConfig.Builder fromJson(Path store, JsonObject json) {
    checkKeys(
        json,
        "",
        Set.of(
            "host",
            "port",
            "grpc_port",
            "admin_token",
            "max_body_bytes",
            "max_rows_per_request",
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
            "stream",
            "idle_timeout_ms",
            "request_body_timeout_ms",
            "feedback_key", // read by scale.ScaleConfig
            "kafka",
            "policies"));
    GatewayConfig.Builder b = GatewayConfig.builder(store);
    if (json.containsKey("host")) {
      b.host(json.getString("host"));
    }
    if (json.containsKey("port")) {
      b.port(json.getInteger("port"));
    }
    if (json.containsKey("grpc_port")) {
      b.grpcPort(json.getInteger("grpc_port"));
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
        checkKeys(m, prefix, ModelPolicy.KEYS);
        b.modelPolicy(model, ModelPolicy.fromJson(m));
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
      b.policies(policies); // read by the recalibration loop (RecalibrationPolicy)
    } else if (json.containsKey("policies")) {
      throw new IllegalArgumentException("policies: expected an array of recalibration policies");
    }
    if (json.containsKey("idle_timeout_ms") || json.containsKey("request_body_timeout_ms")) {
      b.requestTimeouts(
          Duration.ofMillis(json.getLong("idle_timeout_ms", 60_000L)),
          Duration.ofMillis(json.getLong("request_body_timeout_ms", 60_000L)));
    }
    JsonObject st = json.getJsonObject("stream", new JsonObject());
    checkKeys(st, "stream.", Set.of("stall_timeout_ms", "max_rows"));
    if (st.containsKey("stall_timeout_ms")) {
      b.streamStallTimeout(Duration.ofMillis(st.getLong("stall_timeout_ms")));
    }
    b.limits(
        new RequestLimits(
            json.getLong("max_rows_per_request", RequestLimits.DEFAULT.maxRowsPerRequest()),
            st.getLong("max_rows", RequestLimits.DEFAULT.maxStreamRows())));
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
}
