package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.GatewayConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Events, their folding and their publishing without a broker. */
class ExperimentEventsTest {

  private static ExperimentEvent impression(String id, String user, int rows) {
    return new ExperimentEvent(
        id,
        ExperimentEvent.Type.IMPRESSION,
        "ab",
        "g1",
        1,
        "ctr-int8",
        user,
        rows,
        0,
        5,
        id.substring(4),
        "ok",
        1,
        2_000,
        1_000);
  }

  private static ExperimentEvent click(String id, String user, int clicks, long at) {
    return new ExperimentEvent(
        id,
        ExperimentEvent.Type.CLICK,
        "ab",
        "g1",
        1,
        "ctr-int8",
        user,
        2,
        clicks,
        at,
        id.substring(6),
        "ok",
        1,
        0,
        0);
  }

  @Test
  void an_event_survives_its_encoding_and_garbage_is_refused() {
    ExperimentEvent e = impression("imp:1", null, 3);
    assertEquals(e, ExperimentEvent.decode(e.encode()));
    assertEquals("ab", e.key(), "anonymous events are keyed by experiment");
    assertEquals("u1", impression("imp:2", "u1", 1).key());
    assertThrows(IllegalArgumentException.class, () -> ExperimentEvent.decode("{\"id\":1}"));
    assertThrows(IllegalArgumentException.class, () -> ExperimentEvent.decode("nope"));
  }

  @Test
  void folding_is_idempotent_by_event_id_and_counts_distinct_users_as_exposures() {
    EventFold fold = new EventFold(2, 100);
    assertTrue(fold.fold(impression("imp:1", "u1", 2)));
    assertFalse(fold.fold(impression("imp:1", "u1", 2)), "a redelivered event");
    fold.fold(impression("imp:2", "u1", 3));
    fold.fold(impression("imp:3", "u2", 1));
    fold.fold(impression("imp:4", "u3", 1)); // beyond 2 users: impressions, not an exposure
    fold.fold(impression("imp:5", null, 4));
    fold.fold(click("click:1", "u1", 1, 6));
    fold.fold(click("click:1", "u1", 1, 7));
    JsonObject v = fold.view("ab").getJsonArray("variants").getJsonObject(0);
    assertEquals(
        new JsonObject()
            .put("variant", 1)
            .put("model", "ctr-int8")
            .put("exposures", 2)
            .put("impressions", 11L)
            .put("anonymous_impressions", 4L)
            .put("clicks", 1L)
            .put("capped", true),
        v);
    assertEquals(6, fold.folded());
  }

  @Test
  void without_a_broker_publishing_never_blocks_and_drops_beyond_the_buffer() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    ScaleMetrics metrics = ScaleMetrics.register(new PrometheusRegistry());
    KafkaConfig config = new KafkaConfig("127.0.0.1:" + closedPort, "t", 10);
    KafkaRecordPublisher publisher = new KafkaRecordPublisher(config, "t.events", metrics);
    try {
      int accepted = 0;
      for (int i = 0; i < 1_000; i++) {
        if (publisher.publish(impression("imp:" + i, "u" + i, 1))) {
          accepted++;
        }
      }
      // at most the buffer, plus the batch the sender thread holds while it waits for the broker
      assertTrue(accepted <= 10 + KafkaRecordPublisher.SEND_BATCH, "accepted " + accepted);
      assertEquals(1_000 - accepted, metrics.records("event", "dropped"));
    } finally {
      publisher.close();
    }
  }

  @Test
  void the_config_section_is_checked() {
    KafkaConfig k = KafkaConfig.fromJson(new JsonObject().put("bootstrap", "h:9092"));
    assertEquals("distill.experiment-events", k.topic("experiment-events"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KafkaConfig.fromJson(new JsonObject().put("bootstrap", "h:1").put("topics", 1)));
    assertEquals(
        "kafka.topics: unknown setting (expected: bootstrap, topic_prefix, buffer_events,"
            + " session_timeout_ms, instance_id)",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KafkaConfig.fromJson(new JsonObject()));
  }

  @Test
  void the_gateway_config_carries_the_kafka_section_and_the_feedback_key() {
    JsonObject json =
        new JsonObject()
            .put("port", 0)
            .put("feedback_key", "a-key-of-enough-bytes")
            .put("kafka", new JsonObject().put("bootstrap", "h:9092").put("topic_prefix", "p"));
    GatewayConfig.fromJson(java.nio.file.Path.of("store"), json).build(); // the keys are allowed
    ScaleConfig scale = ScaleConfig.fromJson(json);
    assertEquals(
        new ScaleConfig("a-key-of-enough-bytes", new KafkaConfig("h:9092", "p", 100_000)), scale);
    assertEquals(new KafkaConfig("other:1", "p", 100_000), scale.withKafka("other:1").kafka());
    assertEquals(KafkaConfig.of("x:1"), ScaleConfig.OFF.withKafka("x:1").kafka());
    assertEquals(null, ScaleConfig.fromJson(new JsonObject()).kafka(), "off by default");
  }
}
