package ai.distill.gateway.scale;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.experiment.ExperimentDefinition;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.http.JsonBodies;
import ai.distill.gateway.jobs.ExternalRows;
import ai.distill.gateway.runtime.ModelRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Shares experiments between gateways through Kafka ({@link SharedExperiments}): every response
 * served through an experiment and every click joined on this instance is published as an {@link
 * ExperimentEvent} (keyed by user) to {@code <prefix>.experiment-events}; every instance folds the
 * whole topic into the same counts (its experiments' own figures, and the summary at {@code GET
 * /v1/scale/experiments/{name}} with this instance's lag); the instance that wins the {@link
 * KafkaDeciderElection} takes the decisions and publishes them to the compacted {@code
 * <prefix>.experiment-decisions}, which every instance applies. Experiments created through the
 * admin API and canary generations go to the compacted {@code <prefix>.experiment-definitions}
 * ({@link SharedDefinitions}): every instance, the one that made them included, installs them in
 * that topic's order, and one started later reads it to its end before anything else. {@code GET
 * /v1/scale/status} says whether this instance decides. Installed only when {@code "kafka"} is
 * configured.
 *
 * <pre>{@code
 * ScaleRoutes scale = ScaleRoutes.install(gateway, KafkaConfig.of("localhost:9092"), "gw-1",
 *     experiments.service()).await();
 * }</pre>
 */
public final class ScaleRoutes {

  private static final System.Logger LOG = System.getLogger(ScaleRoutes.class.getName());

  /** The experiment-event topic's name under the prefix. */
  public static final String EVENTS_TOPIC = "experiment-events";

  /** The compacted topic of decision states (one partition, keyed by experiment). */
  public static final String DECISIONS_TOPIC = "experiment-decisions";

  /**
   * The compacted topic of experiment definitions (one partition, keyed by experiment): every new
   * experiment and next generation, from any instance, installed by all of them in its order.
   */
  public static final String DEFINITIONS_TOPIC = "experiment-definitions";

  /** The topic of captured rows (values in the rows format, keyed by capture stream). */
  public static final String CAPTURES_TOPIC = "captures";

  /** The single-partition topic whose consumer group elects the deciding instance. */
  public static final String ELECTION_TOPIC = "decider-election";

  private final Vertx vertx;
  private final KafkaRecordPublisher publisher;
  private final KafkaTopicReader reader;
  private final KafkaDeciderElection election;
  private final SharedDefinitions definitions;
  private final EventFold fold;
  private final ScaleMetrics metrics;
  private final String instance;
  private final KafkaConfig config;

  private ScaleRoutes(
      Vertx vertx,
      KafkaRecordPublisher publisher,
      KafkaTopicReader reader,
      KafkaDeciderElection election,
      SharedDefinitions definitions,
      EventFold fold,
      ScaleMetrics metrics,
      String instance,
      KafkaConfig config) {
    this.config = config;
    this.definitions = definitions;
    this.vertx = vertx;
    this.publisher = publisher;
    this.reader = reader;
    this.election = election;
    this.fold = fold;
    this.metrics = metrics;
    this.instance = instance;
  }

  /**
   * Creates the topics if needed (on a worker), starts publishing, reading and the decider
   * election, shares {@code experiments} through them, and mounts the routes. Fails when the broker
   * cannot be reached to create the topics.
   *
   * @param instance this instance's name (in logs and the status route)
   */
  public static Future<ScaleRoutes> install(
      Gateway gateway, KafkaConfig config, String instance, ExperimentService experiments) {
    Vertx vertx = gateway.vertx();
    String events = config.topic(EVENTS_TOPIC);
    String decisions = config.topic(DECISIONS_TOPIC);
    String definitionsTopic = config.topic(DEFINITIONS_TOPIC);
    String electionTopic = config.topic(ELECTION_TOPIC);
    ScaleMetrics metrics = ScaleMetrics.register(gateway.registry());
    return vertx
        .executeBlocking(
            () -> {
              KafkaTopicReader.ensureTopic(config, events, Optional.empty(), Map.of());
              KafkaTopicReader.ensureTopic(
                  config, decisions, Optional.of(1), Map.of("cleanup.policy", "compact"));
              KafkaTopicReader.ensureTopic(
                  config, definitionsTopic, Optional.of(1), Map.of("cleanup.policy", "compact"));
              KafkaTopicReader.ensureTopic(config, electionTopic, Optional.of(1), Map.of());
              KafkaTopicReader.ensureTopic(
                  config, config.topic(CAPTURES_TOPIC), Optional.empty(), Map.of());
              KafkaRecordPublisher publisher = new KafkaRecordPublisher(config, events, metrics);
              KafkaDeciderElection election =
                  new KafkaDeciderElection(
                      config, electionTopic, config.topic("deciders"), instance);
              EventFold fold =
                  new EventFold(ExperimentService.Options.DEFAULT.maxUsersPerVariant(), 1_000_000);
              SharedDefinitions definitions = new SharedDefinitions(config, definitionsTopic);
              SharedExperiments shared =
                  new SharedExperiments(
                      publisher,
                      election,
                      decisions,
                      definitions,
                      d -> loadVariants(gateway.models(), d),
                      fold,
                      metrics);
              shared.attach(experiments);
              definitions.catchUp(); // the definitions first: then their events and decisions
              KafkaTopicReader reader =
                  new KafkaTopicReader(
                      config,
                      Map.of(
                          events,
                          shared::onEvent,
                          decisions,
                          shared::onDecision,
                          definitionsTopic,
                          definitions::onRecord),
                      metrics);
              metrics.decider(election::isDecider);
              election.start();
              reader.start();
              return new ScaleRoutes(
                  vertx, publisher, reader, election, definitions, fold, metrics, instance, config);
            },
            false)
        .map(
            routes -> {
              gateway.router().get("/v1/scale/experiments/:name").handler(routes::view);
              gateway.router().get("/v1/scale/status").handler(routes::status);
              return routes;
            });
  }

  // A shared definition's models, loaded here when they are not (a canary published elsewhere).
  private static void loadVariants(ModelRegistry models, ExperimentDefinition d) {
    for (ExperimentDefinition.Variant v : d.variants()) {
      if (!models.isLoaded(v.model(), v.version())) {
        try {
          models
              .load(v.model(), v.version(), false)
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (ExecutionException | TimeoutException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "experiment {0}: cannot load {1}:{2} here: {3}",
              d.name(),
              v.model(),
              v.version(),
              String.valueOf(e.getCause()));
        }
      }
    }
  }

  private void view(RoutingContext ctx) {
    JsonBodies.send(
        ctx,
        200,
        fold.view(ctx.pathParam("name"))
            .put("lag_records", metrics.lag())
            .put("buffered_events", publisher.buffered()));
  }

  private void status(RoutingContext ctx) {
    JsonBodies.send(
        ctx,
        200,
        new JsonObject()
            .put("instance", instance)
            .put("decider", election.isDecider())
            .put("lag_records", metrics.lag())
            .put("buffered_records", publisher.buffered()));
  }

  /** The folded counts. */
  public EventFold fold() {
    return fold;
  }

  public ScaleMetrics metrics() {
    return metrics;
  }

  /** True while this instance takes the experiment decisions. */
  public boolean isDecider() {
    return election.isDecider();
  }

  /**
   * Sends {@code capture}'s rows to {@code <prefix>.captures} (keyed by stream, through the same
   * bounded publisher: a full buffer drops and counts) instead of this instance's segment files.
   */
  public void shareCaptures(CaptureService capture) {
    String topic = config.topic(CAPTURES_TOPIC);
    capture.sendTo(
        (stream, line) ->
            publisher.publish(topic, stream, line, KafkaRecordPublisher.Kind.CAPTURE));
  }

  /**
   * Reads {@code kafka://[host:port/]topic[#key]} rows for jobs (this broker by default); a job's
   * {@code "capture"} rows are the capture topic's records of its stream.
   */
  public ExternalRows externalRows() {
    String captures = KafkaRows.SCHEME + config.topic(CAPTURES_TOPIC) + "#";
    return new ExternalRows() {
      @Override
      public long copy(String uri, java.nio.file.Path copy) throws java.io.IOException {
        if (!KafkaRows.isKafka(uri)) {
          return ExternalRows.NONE.copy(uri, copy);
        }
        return KafkaRows.copy(KafkaRows.parse(uri, config.bootstrap()), copy);
      }

      @Override
      public String capturedRows(String stream) {
        return captures + stream;
      }
    };
  }

  /** Flushes the buffered records (bounded), leaves the election and stops reading, on a worker. */
  public Future<Void> close() {
    return vertx.executeBlocking(
        () -> {
          election.close();
          publisher.close();
          reader.close();
          definitions.close();
          return null;
        },
        false);
  }

  /**
   * Stops every Kafka client at once, without flushing or leaving the decider group, as a killed
   * process would (the others take over after the session timeout). For tests.
   */
  Future<Void> kill() {
    return vertx.executeBlocking(
        () -> {
          election.abort();
          publisher.abort();
          reader.close();
          definitions.close();
          return null;
        },
        false);
  }
}
