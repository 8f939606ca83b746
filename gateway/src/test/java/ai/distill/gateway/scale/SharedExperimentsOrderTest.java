package ai.distill.gateway.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.distill.gateway.experiment.ExperimentDefinition;
import ai.distill.gateway.experiment.ExperimentJson;
import ai.distill.gateway.experiment.ExperimentReplication;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.experiment.VariantInvoker;
import ai.distill.gateway.tensor.InferRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The order in which an instance applies what the topics deliver, without a broker: events and
 * decision states of a generation whose definition has not arrived yet wait for it; a past
 * generation's events never count in the next one; a definition record read twice is applied once.
 */
class SharedExperimentsOrderTest {

  private static final String DEFINITIONS = "t.experiment-definitions";

  private final ExperimentService service =
      new ExperimentService(
          new VariantInvoker() {
            @Override
            public Future<Served> infer(String model, Long version, InferRequest request) {
              return Future.failedFuture("not served in this test");
            }

            @Override
            public Signature signature(String model, Long version) {
              return new Signature(List.of(), List.of());
            }

            @Override
            public boolean isModel(String name) {
              return false;
            }
          },
          null,
          Runnable::run,
          ExperimentService.Options.DEFAULT,
          null,
          null,
          null);
  private KafkaRecordPublisher publisher;
  private SharedDefinitions definitions;
  private KafkaDeciderElection election;
  private SharedExperiments shared;
  private ScaleMetrics metrics;

  @BeforeEach
  void attach() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    KafkaConfig config = new KafkaConfig("127.0.0.1:" + closedPort, "t", 10);
    metrics = ScaleMetrics.register(new PrometheusRegistry());
    publisher = new KafkaRecordPublisher(config, "t.experiment-events", metrics);
    definitions = new SharedDefinitions(config, DEFINITIONS);
    election = new KafkaDeciderElection(config, "t.election", "t.deciders", "x");
    shared =
        new SharedExperiments(
            publisher,
            election,
            "t.experiment-decisions",
            definitions,
            d -> {},
            new EventFold(1_000, 1_000),
            metrics);
    shared.attach(service);
  }

  @AfterEach
  void close() {
    publisher.close();
    definitions.close();
    election.close();
  }

  @Test
  void what_comes_before_its_definition_waits_for_it_and_a_past_generation_never_counts() {
    ExperimentDefinition first = ExperimentJson.definition(KafkaGateway.experiment("ab"));
    String g1 = ExperimentJson.generation(first);
    // the events and a decision state of a generation this instance does not know yet
    shared.onEvent(event("imp:1", ExperimentEvent.Type.IMPRESSION, g1, "u1", 0));
    shared.onEvent(event("click:1", ExperimentEvent.Type.CLICK, g1, "u1", 1));
    JsonObject state =
        new JsonObject()
            .put("experiment", "ab")
            .put("generation", g1)
            .put("status", "running")
            .put("weights", new JsonArray().add(70.0).add(30.0))
            .put("decisions", new JsonArray());
    shared.onDecision(new ConsumerRecord<>("t.experiment-decisions", 0, 0, "ab", state.encode()));
    assertFalse(service.isExperiment("ab"));

    definitions.onRecord(definition(0, first, null));
    JsonObject view = ExperimentJson.view(service.get("ab"));
    assertEquals(g1, view.getString("generation"));
    assertEquals(1000L, view.getLong("created"), "created when its maker created it");
    JsonObject teacher = view.getJsonArray("variants").getJsonObject(0);
    assertEquals(List.of(2L, 1L, 70.0), stats(teacher), "the waiting events and state applied");

    // the next generation: counts afresh; the first one's events are of the past
    ExperimentDefinition next =
        ExperimentJson.definition(KafkaGateway.experiment("ab").put("salt", "second"));
    String g2 = ExperimentJson.generation(next);
    definitions.onRecord(definition(1, next, "superseded by the test"));
    assertEquals(g2, ExperimentJson.view(service.get("ab")).getString("generation"));
    shared.onEvent(event("imp:2", ExperimentEvent.Type.IMPRESSION, g1, "u2", 0));
    shared.onEvent(event("imp:3", ExperimentEvent.Type.IMPRESSION, g2, "u3", 0));
    // the first definition read again (as by the reader after the catch-up): applied once only
    definitions.onRecord(definition(0, first, null));
    view = ExperimentJson.view(service.get("ab"));
    assertEquals(g2, view.getString("generation"));
    assertEquals(
        List.of(2L, 0L, 50.0), stats(view.getJsonArray("variants").getJsonObject(0)), "u3 only");
  }

  @Test
  void events_waiting_for_a_definition_are_bounded_and_the_dropped_ones_counted() {
    for (int i = 0; i <= SharedExperiments.MAX_WAITING_EVENTS; i++) {
      shared.onEvent(event("imp:" + i, ExperimentEvent.Type.IMPRESSION, "never", "u" + i, 0));
    }
    assertEquals(1, metrics.foldedCount("expired"));
    assertEquals(SharedExperiments.MAX_WAITING_EVENTS + 1, metrics.foldedCount("counted"));
  }

  private static List<Object> stats(JsonObject variant) {
    return List.of(
        variant.getLong("impressions"), variant.getLong("clicks"), variant.getDouble("weight"));
  }

  private static ConsumerRecord<String, String> definition(
      long offset, ExperimentDefinition d, String supersedes) {
    return new ConsumerRecord<>(
        DEFINITIONS,
        0,
        offset,
        d.name(),
        ExperimentReplication.definitionRecord(d, supersedes, 1000 + offset).encode());
  }

  private static ConsumerRecord<String, String> event(
      String id, ExperimentEvent.Type type, String generation, String user, int clicks) {
    ExperimentEvent e =
        new ExperimentEvent(
            id,
            type,
            "ab",
            generation,
            0,
            "ctr",
            user,
            2,
            clicks,
            5,
            id.substring(id.indexOf(':') + 1),
            "ok",
            1,
            1_000,
            1_000);
    return new ConsumerRecord<>("t.experiment-events", 0, 0, user, e.encode());
  }
}
