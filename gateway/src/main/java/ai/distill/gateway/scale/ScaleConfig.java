package ai.distill.gateway.scale;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The scale-out settings of the gateway config file: {@code "feedback_key"} (the key that signs
 * response ids; null: {@code DISTILL_FEEDBACK_KEY}, else {@code <store>/feedback.key}) and {@code
 * "kafka"} (null: Kafka off, the single-machine default).
 */
public record ScaleConfig(String feedbackKey, KafkaConfig kafka) {

  /** No key configured, Kafka off. */
  public static final ScaleConfig OFF = new ScaleConfig(null, null);

  /** Reads the two settings from a config file (the other settings are the gateway's). */
  public static ScaleConfig fromFile(Path file) {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config " + file + ": " + e.getMessage(), e);
    } catch (DecodeException e) {
      throw new IllegalArgumentException(
          "config " + file + " is not valid JSON: " + e.getMessage());
    }
    try {
      return fromJson(json);
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException("config " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads {@code "feedback_key"} and {@code "kafka"} from the config's JSON. */
  public static ScaleConfig fromJson(JsonObject json) {
    JsonObject kafka = json.getJsonObject("kafka");
    return new ScaleConfig(
        json.getString("feedback_key"), kafka == null ? null : KafkaConfig.fromJson(kafka));
  }

  /** With Kafka at {@code bootstrap} (keeps a configured prefix and buffer). */
  public ScaleConfig withKafka(String bootstrap) {
    KafkaConfig k = kafka == null ? KafkaConfig.of(bootstrap) : kafka.withBootstrap(bootstrap);
    return new ScaleConfig(feedbackKey, k);
  }
}
