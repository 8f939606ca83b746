package ai.distill.gateway.scale;

import ai.distill.gateway.experiment.Experiment;
import ai.distill.gateway.experiment.ExperimentDefinition;
import ai.distill.gateway.experiment.ExperimentJson;
import ai.distill.gateway.experiment.ExperimentReplication;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.experiment.ExperimentSharing;
import ai.distill.gateway.experiment.RequestOutcome;
import ai.distill.gateway.feedback.Impression;
import ai.distill.gateway.feedback.ResponseIdSigner;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Shares this instance's experiments through Kafka: what it serves and joins goes out as {@link
 * ExperimentEvent}s; every event read back from the topic (this instance's own included) is folded
 * once ({@link EventFold}) and counted into the local experiments, so every instance holds the same
 * figures; only the {@link KafkaDeciderElection} winner takes automatic decisions, and every
 * decision state goes to the compacted decisions topic (keyed by experiment) that every instance
 * applies. Clicks that arrive before their impression (served elsewhere, published later) wait in a
 * bounded map until it comes. New experiments and generations, made on any instance, go through the
 * compacted definitions topic ({@link SharedDefinitions}) and every instance installs them in its
 * order; events and decision states of a generation not installed here yet wait (bounded) until its
 * definition comes, those of a past generation are ignored. Thread-safe: the listeners run on
 * serving threads, the handlers on the reader's thread.
 */
final class SharedExperiments implements ExperimentSharing {

  private static final System.Logger LOG = System.getLogger(SharedExperiments.class.getName());
  static final int MAX_PENDING_CLICKS = 100_000;
  // events race their definition by a moment; beyond this many the oldest are dropped and counted
  static final int MAX_WAITING_EVENTS = 20_000;
  static final int MAX_WAITING_DECISIONS = 1_000;

  private final KafkaRecordPublisher publisher;
  private final KafkaDeciderElection election;
  private final String decisionsTopic;
  private final EventFold fold;
  private final ScaleMetrics metrics;
  // unique event ids without a SecureRandom draw per request: this process's prefix, a counter
  private final String idPrefix = UUID.randomUUID() + ":";
  private final AtomicLong nextId = new AtomicLong();
  private final LinkedHashMap<String, ExperimentEvent> pendingClicks =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ExperimentEvent> eldest) {
          return size() > MAX_PENDING_CLICKS;
        }
      };
  // events and decision states of a generation not installed here yet (reader's thread only)
  private final LinkedHashMap<String, ExperimentEvent> waitingEvents;
  private final LinkedHashMap<String, JsonObject> waitingDecisions =
      bounded(MAX_WAITING_DECISIONS, () -> {});
  private final SharedDefinitions definitions;
  private final java.util.function.Consumer<ExperimentDefinition> prepare;
  private volatile ExperimentReplication replication;

  /**
   * @param prepare readies what a shared definition needs here before it is installed (loads its
   *     models), on the reader's thread
   */
  SharedExperiments(
      KafkaRecordPublisher publisher,
      KafkaDeciderElection election,
      String decisionsTopic,
      SharedDefinitions definitions,
      java.util.function.Consumer<ExperimentDefinition> prepare,
      EventFold fold,
      ScaleMetrics metrics) {
    this.publisher = publisher;
    this.election = election;
    this.decisionsTopic = decisionsTopic;
    this.definitions = definitions;
    this.prepare = prepare;
    this.fold = fold;
    this.metrics = metrics;
    this.waitingEvents = bounded(MAX_WAITING_EVENTS, () -> metrics.folded("expired"));
  }

  private static <V> LinkedHashMap<String, V> bounded(int max, Runnable evicted) {
    return new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        if (size() > max) {
          evicted.run();
          return true;
        }
        return false;
      }
    };
  }

  /**
   * Starts sharing {@code experiments}: listens to what it serves, counts from the topic, installs
   * the definitions {@link SharedDefinitions} hands over (from its {@link
   * SharedDefinitions#catchUp}, called next, before the other topics are read).
   */
  void attach(ExperimentService experiments) {
    this.replication = experiments.share(this);
    definitions.handlers(
        this::onDefinition, r -> replication.superseded(new JsonObject(r.value())));
    experiments.addServedListener(this::served);
    experiments.feedback().addJoinListener(this::joined);
  }

  @Override
  public boolean define(ExperimentDefinition definition, String supersedes) {
    definitions.publish(
        definition.name(),
        ExperimentReplication.definitionRecord(definition, supersedes, System.currentTimeMillis())
            .encode());
    return true;
  }

  /** A definition read from the definitions topic, in its order (the reader's thread). */
  private void onDefinition(ConsumerRecord<String, String> r) {
    JsonObject record = new JsonObject(r.value());
    ExperimentDefinition d = ExperimentJson.definition(record.getJsonObject("definition"));
    prepare.accept(d);
    if (replication.applyDefinition(record) != ExperimentReplication.Applied.APPLIED) {
      return;
    }
    String name = d.name();
    String generation = ExperimentJson.generation(d);
    LOG.log(System.Logger.Level.INFO, "installed experiment {0} generation {1}", name, generation);
    JsonObject state = waitingDecisions.get(name);
    if (state != null && generation.equals(state.getString("generation"))) {
      waitingDecisions.remove(name);
      replication.applyDecisionState(state);
    }
    List<ExperimentEvent> ready = new ArrayList<>();
    for (Iterator<ExperimentEvent> i = waitingEvents.values().iterator(); i.hasNext(); ) {
      ExperimentEvent e = i.next();
      if (e.experiment().equals(name) && e.generation().equals(generation)) {
        ready.add(e);
        i.remove();
      }
    }
    ready.forEach(e -> apply(replication, e));
  }

  @Override
  public boolean decides() {
    return election.isDecider();
  }

  @Override
  public void decided(Experiment experiment) {
    publisher.publish(
        decisionsTopic,
        experiment.name(),
        ExperimentJson.decisionState(experiment).encode(),
        KafkaRecordPublisher.Kind.DECISION);
  }

  private static String generation(ExperimentDefinition d) {
    return ExperimentJson.generation(d);
  }

  private void served(
      ExperimentService.Selection s,
      String id,
      int rows,
      long version,
      RequestOutcome outcome,
      long latencyNanos,
      long costNanos) {
    if (outcome == RequestOutcome.CLIENT_ERROR) {
      return; // counts for nothing anywhere
    }
    boolean ok = outcome == RequestOutcome.OK;
    // a signed id is unique; a client's id may be reused, so its fact gets an id of its own
    String eventId =
        ok && ResponseIdSigner.looksSigned(id)
            ? "imp:" + id
            : "imp:" + idPrefix + Long.toString(nextId.incrementAndGet(), 36);
    publisher.publish(
        new ExperimentEvent(
            eventId,
            ok ? ExperimentEvent.Type.IMPRESSION : ExperimentEvent.Type.FAILURE,
            s.experiment().name(),
            generation(s.experiment().definition()),
            s.assignment().variant(),
            s.assignment().model(),
            s.userId(),
            rows,
            0,
            System.currentTimeMillis(),
            id,
            outcome.label(),
            version,
            latencyNanos,
            costNanos));
  }

  private void joined(Impression i, int[] clicks) {
    ExperimentReplication shared = replication;
    // a click on a past generation's response counts in none (as when not shared)
    String generation = shared == null ? null : shared.generationServed(i);
    if (generation == null) {
      return;
    }
    int sum = 0;
    for (int c : clicks) {
      sum += c;
    }
    // the same feedback joined on two instances is one event: its id is the response's
    publisher.publish(
        new ExperimentEvent(
            "click:" + i.id(),
            ExperimentEvent.Type.CLICK,
            i.experiment(),
            generation,
            i.variant(),
            i.model(),
            i.userId(),
            i.rows(),
            sum,
            System.currentTimeMillis(),
            i.id(),
            "ok",
            -1,
            0,
            0));
  }

  /** An experiment event read back from the topic (the reader's thread). */
  void onEvent(ConsumerRecord<String, String> r) {
    ExperimentEvent e;
    try {
      e = ExperimentEvent.decode(r.value());
      RequestOutcome.valueOf(e.outcome().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException bad) {
      metrics.folded("invalid");
      return;
    }
    if (!fold.fold(e)) {
      metrics.folded("duplicate");
      return;
    }
    metrics.folded("counted");
    ExperimentReplication shared = replication;
    if (shared != null) {
      apply(shared, e);
    }
  }

  // Counts a folded event; one of a generation not installed here yet waits for its definition.
  private void apply(ExperimentReplication shared, ExperimentEvent e) {
    RequestOutcome outcome = RequestOutcome.valueOf(e.outcome().toUpperCase(Locale.ROOT));
    switch (e.type()) {
      case IMPRESSION, FAILURE -> {
        ExperimentReplication.Applied a =
            shared.applyServed(
                e.experiment(),
                e.generation(),
                e.variant(),
                e.model(),
                e.userId(),
                e.rows(),
                outcome,
                e.latencyNanos(),
                e.costNanos(),
                e.version());
        if (a == ExperimentReplication.Applied.NOT_YET) {
          waitingEvents.put(e.id(), e);
          return;
        }
        ExperimentEvent click =
            e.responseId() == null ? null : pendingClicks.remove(e.responseId());
        if (click != null) {
          click(shared, click);
        }
      }
      case CLICK -> click(shared, e);
    }
  }

  private void click(ExperimentReplication shared, ExperimentEvent e) {
    ExperimentReplication.Applied a =
        shared.applyClicks(
            e.experiment(), e.generation(), e.variant(), e.model(), e.userId(), e.clicks());
    if (a == ExperimentReplication.Applied.USER_UNKNOWN && e.responseId() != null) {
      pendingClicks.put(e.responseId(), e);
    } else if (a == ExperimentReplication.Applied.NOT_YET) {
      waitingEvents.put(e.id(), e);
    }
  }

  /** A decision state read back from the decisions topic (the reader's thread). */
  void onDecision(ConsumerRecord<String, String> r) {
    ExperimentReplication shared = replication;
    if (shared == null || r.value() == null) {
      return;
    }
    try {
      JsonObject state = new JsonObject(r.value());
      ExperimentReplication.Applied a = shared.applyDecisionState(state);
      if (a == ExperimentReplication.Applied.APPLIED) {
        LOG.log(System.Logger.Level.INFO, "applied the shared decisions of {0}", r.key());
      } else if (a == ExperimentReplication.Applied.NOT_YET) {
        waitingDecisions.put(state.getString("experiment", ""), state);
      }
    } catch (RuntimeException bad) {
      LOG.log(System.Logger.Level.WARNING, "ignored a malformed decision state: {0}", bad);
    }
  }
}
