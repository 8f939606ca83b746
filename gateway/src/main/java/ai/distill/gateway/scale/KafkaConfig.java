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
 * @param bufferEvents events buffered at most while the broker is slow or away; beyond that they
 *     are dropped and counted, never waited for
 */
public record KafkaConfig(String bootstrap, String topicPrefix, int bufferEvents) {

  public static final String DEFAULT_PREFIX = "distill";
  public static final int DEFAULT_BUFFER_EVENTS = 100_000;

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
  }

  /** Kafka at {@code bootstrap} with the default prefix and buffer. */
  public static KafkaConfig of(String bootstrap) {
    return new KafkaConfig(bootstrap, DEFAULT_PREFIX, DEFAULT_BUFFER_EVENTS);
  }

  /** The section's JSON form: {@code {"bootstrap", "topic_prefix", "buffer_events"}}. */
  public static KafkaConfig fromJson(JsonObject json) {
    for (String key : json.fieldNames()) {
      if (!Set.of("bootstrap", "topic_prefix", "buffer_events").contains(key)) {
        throw new IllegalArgumentException(
            "kafka."
                + key
                + ": unknown setting (expected: bootstrap, topic_prefix, buffer_events)");
      }
    }
    return new KafkaConfig(
        json.getString("bootstrap"),
        json.getString("topic_prefix", DEFAULT_PREFIX),
        json.getInteger("buffer_events", DEFAULT_BUFFER_EVENTS));
  }

  /** The full name of topic {@code name}. */
  public String topic(String name) {
    return topicPrefix + "." + name;
  }
}
