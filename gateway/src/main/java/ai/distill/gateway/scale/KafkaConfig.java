package ai.distill.gateway.scale;

import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * The {@code "kafka"} section of the gateway config: where the broker is and how topics are named.
 * Absent means Kafka is off (the single-machine default).
 *
 * <pre>{@code
 * KafkaConfig k = KafkaConfig.fromJson(new JsonObject().put("bootstrap", "localhost:9092"));
 * k.topic("experiment-events"); // "distill.experiment-events"
 * }</pre>
 *
 * @param bootstrap {@code host:port[,host:port...]} of the brokers
 * @param topicPrefix prepended to every topic name (with a dot), so several deployments can share a
 *     cluster
 * @param bufferEvents records (events, decisions, captured rows) buffered at most while the broker
 *     is slow or away; beyond that they are dropped and counted, never waited for
 * @param sessionTimeoutMs how long the deciding instance may be silent before another one takes
 *     over (the Kafka consumer group's session timeout)
 * @param instanceId this instance's name among those sharing the broker (its folder under a shared
 *     store, its name in logs); null: {@code $DISTILL_INSTANCE}, else host name and port
 */
public record KafkaConfig(
    String bootstrap,
    String topicPrefix,
    int bufferEvents,
    int sessionTimeoutMs,
    String instanceId) {

  public static final String DEFAULT_PREFIX = "distill";
  public static final int DEFAULT_BUFFER_EVENTS = 100_000;
  public static final int DEFAULT_SESSION_TIMEOUT_MS = 10_000;
  private static final Set<String> KEYS =
      Set.of("bootstrap", "topic_prefix", "buffer_events", "session_timeout_ms", "instance_id");
  private static final String INSTANCE = "[A-Za-z0-9][A-Za-z0-9._-]{0,99}";

  public KafkaConfig {
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException(
          "kafka.bootstrap: " + bootstrap + " (expected: host:port of a broker)");
    }
    if (topicPrefix == null || !topicPrefix.matches("[A-Za-z0-9._-]{1,100}")) {
      throw new IllegalArgumentException(
          "kafka.topic_prefix: '"
              + topicPrefix
              + "' (expected: 1-100 of letters, digits, '.', '_', '-')");
    }
    if (bufferEvents <= 0) {
      throw new IllegalArgumentException(
          "kafka.buffer_events: " + bufferEvents + " (expected: > 0)");
    }
    if (sessionTimeoutMs < 100) {
      throw new IllegalArgumentException(
          "kafka.session_timeout_ms: " + sessionTimeoutMs + " (expected: >= 100)");
    }
    if (instanceId != null && !instanceId.matches(INSTANCE)) {
      throw new IllegalArgumentException(
          "kafka.instance_id: '"
              + instanceId
              + "' (expected: 1-100 of letters, digits, '.', '_', '-', starting with a letter or"
              + " digit)");
    }
  }

  /** With the default session timeout and instance id. */
  public KafkaConfig(String bootstrap, String topicPrefix, int bufferEvents) {
    this(bootstrap, topicPrefix, bufferEvents, DEFAULT_SESSION_TIMEOUT_MS, null);
  }

  /**
   * This instance's id: {@link #instanceId}, else {@code $DISTILL_INSTANCE}, else {@code
   * <host>-<port>} (characters outside the allowed ones replaced by '-').
   */
  public String resolveInstanceId(int port) {
    if (instanceId != null) {
      return instanceId;
    }
    String env = System.getenv("DISTILL_INSTANCE");
    if (env != null && !env.isBlank()) {
      return new KafkaConfig(bootstrap, topicPrefix, bufferEvents, sessionTimeoutMs, env.strip())
          .instanceId();
    }
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "localhost";
    }
    return (host + "-" + port).replaceAll("[^A-Za-z0-9._-]", "-").replaceFirst("^[._-]+", "");
  }

  /** Kafka at {@code bootstrap} with the default prefix, buffer and session timeout. */
  public static KafkaConfig of(String bootstrap) {
    return new KafkaConfig(bootstrap, DEFAULT_PREFIX, DEFAULT_BUFFER_EVENTS);
  }

  /**
   * The section's JSON form: {@code {"bootstrap", "topic_prefix", "buffer_events",
   * "session_timeout_ms"}}.
   */
  public static KafkaConfig fromJson(JsonObject json) {
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "kafka."
                + key
                + ": unknown setting (expected: bootstrap, topic_prefix, buffer_events,"
                + " session_timeout_ms, instance_id)");
      }
    }
    return new KafkaConfig(
        json.getString("bootstrap"),
        json.getString("topic_prefix", DEFAULT_PREFIX),
        json.getInteger("buffer_events", DEFAULT_BUFFER_EVENTS),
        json.getInteger("session_timeout_ms", DEFAULT_SESSION_TIMEOUT_MS),
        json.getString("instance_id"));
  }

  /** With another bootstrap, the rest kept. */
  public KafkaConfig withBootstrap(String other) {
    return new KafkaConfig(other, topicPrefix, bufferEvents, sessionTimeoutMs, instanceId);
  }

  /** The full name of topic {@code name}. */
  public String topic(String name) {
    return topicPrefix + "." + name;
  }
}
