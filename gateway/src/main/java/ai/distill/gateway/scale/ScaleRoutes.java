package ai.distill.gateway.scale;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.feedback.Impression;
import ai.distill.gateway.feedback.ResponseIdSigner;
import ai.distill.gateway.http.JsonBodies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * Shares experiment counts between gateways through Kafka: every response served through an
 * experiment and every click joined on this instance is published as an {@link ExperimentEvent}
 * (keyed by user) to {@code <prefix>.experiment-events}; every instance folds the whole topic into
 * the same counts, served at {@code GET /v1/scale/experiments/{name}} (with this instance's lag).
 * Installed only when {@code "kafka"} is configured.
 *
 * <pre>{@code
 * ScaleRoutes scale = ScaleRoutes.install(gateway, KafkaConfig.of("localhost:9092"),
 *     feedback.service(), experiments.service()).await();
 * }</pre>
 */
public final class ScaleRoutes {

  /** The experiment-event topic's name under the prefix. */
  public static final String EVENTS_TOPIC = "experiment-events";

  private final Vertx vertx;
  private final KafkaEventPublisher publisher;
  private final KafkaEventFolder folder;
  private final ScaleMetrics metrics;

  private ScaleRoutes(
      Vertx vertx, KafkaEventPublisher publisher, KafkaEventFolder folder, ScaleMetrics metrics) {
    this.vertx = vertx;
    this.publisher = publisher;
    this.folder = folder;
    this.metrics = metrics;
  }

  /**
   * Creates the topic if needed (on a worker), starts publishing and folding, and mounts the route.
   * Fails when the broker cannot be reached to create the topic.
   */
  public static Future<ScaleRoutes> install(
      Gateway gateway,
      KafkaConfig config,
      FeedbackService feedback,
      ExperimentService experiments) {
    Vertx vertx = gateway.vertx();
    String topic = config.topic(EVENTS_TOPIC);
    ScaleMetrics metrics = ScaleMetrics.register(gateway.registry());
    return vertx
        .executeBlocking(
            () -> {
              KafkaEventFolder.ensureTopic(config, topic);
              KafkaEventPublisher publisher = new KafkaEventPublisher(config, topic, metrics);
              KafkaEventFolder folder =
                  new KafkaEventFolder(
                          config,
                          topic,
                          new EventFold(
                              ExperimentService.Options.DEFAULT.maxUsersPerVariant(), 1_000_000),
                          metrics)
                      .start();
              return new ScaleRoutes(vertx, publisher, folder, metrics);
            },
            false)
        .map(
            routes -> {
              experiments.addServedListener(
                  (s, id, rows, version) ->
                      routes.publisher.publish(
                          new ExperimentEvent(
                              "imp:"
                                  + (ResponseIdSigner.looksSigned(id)
                                      ? id
                                      : UUID.randomUUID().toString()),
                              ExperimentEvent.Type.IMPRESSION,
                              s.experiment().name(),
                              s.assignment().variant(),
                              s.assignment().model(),
                              s.userId(),
                              rows,
                              0,
                              System.currentTimeMillis())));
              feedback.addJoinListener(routes::joined);
              gateway.router().get("/v1/scale/experiments/:name").handler(routes::view);
              return routes;
            });
  }

  private void joined(Impression i, int[] clicks) {
    if (i.experiment() == null) {
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
            i.variant(),
            i.model(),
            i.userId(),
            i.rows(),
            sum,
            System.currentTimeMillis()));
  }

  private void view(RoutingContext ctx) {
    JsonBodies.send(
        ctx,
        200,
        folder
            .fold()
            .view(ctx.pathParam("name"))
            .put("lag_records", metrics.lag())
            .put("buffered_events", publisher.buffered()));
  }

  /** The folded counts. */
  public EventFold fold() {
    return folder.fold();
  }

  public ScaleMetrics metrics() {
    return metrics;
  }

  /** Flushes the buffered events (bounded) and stops folding, on a worker. */
  public Future<Void> close() {
    return vertx.executeBlocking(
        () -> {
          publisher.close();
          folder.close();
          return null;
        },
        false);
  }
}
