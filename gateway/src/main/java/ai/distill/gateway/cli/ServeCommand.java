package ai.distill.gateway.cli;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.capture.CaptureWriter;
import ai.distill.gateway.dashboard.DashboardRoutes;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobRoutes;
import ai.distill.gateway.logging.LogSetup;
import ai.distill.gateway.loop.LoopRoutes;
import ai.distill.gateway.scale.ScaleConfig;
import ai.distill.gateway.scale.ScaleRoutes;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code serve --store DIR [--port 8080] [--host H] [--config FILE] [--admin-token T]}: runs the
 * gateway until SIGTERM/SIGINT, then shuts down gracefully (ready turns 503, in-flight requests
 * finish, sessions close).
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Serve every model in the store over the Open Inference Protocol v2.")
public final class ServeCommand implements Callable<Integer> {

  @Option(
      names = "--store",
      defaultValue = "${DISTILL_STORE}",
      description = "Model store directory (default: $DISTILL_STORE; one of them is required).")
  Path store;

  @Option(
      names = "--port",
      defaultValue = "${DISTILL_PORT}",
      description = "Port (default: $DISTILL_PORT, else the config's, else 8080; 0 = ephemeral).")
  Integer port;

  @Option(
      names = "--grpc-port",
      description = "OIP v2 gRPC port (default: 8081, or the config's grpc_port; 0 disables).")
  Integer grpcPort;

  @Option(
      names = "--host",
      defaultValue = "${DISTILL_HOST}",
      description = "Listen address (default: $DISTILL_HOST, else the config's, else 0.0.0.0).")
  String host;

  @Option(
      names = "--config",
      description = "JSON configuration file (batching, session options...).")
  Path config;

  @Option(
      names = "--admin-token",
      description = "Admin token (default: $DISTILL_ADMIN_TOKEN, else <store>/admin.token).")
  String adminToken;

  @Option(
      names = "--kafka",
      defaultValue = "${DISTILL_KAFKA}",
      description =
          "Kafka bootstrap host:port: share experiments (counts, decisions), captures and job"
              + " rows with other instances (default: $DISTILL_KAFKA, else the config's"
              + " \"kafka\", else off).")
  String kafka;

  @Option(
      names = "--log-format",
      defaultValue = "${DISTILL_LOG_FORMAT:-text}",
      description = "Log lines as text or json (default: $DISTILL_LOG_FORMAT, else text).")
  String logFormat;

  @Option(
      names = "--access-log",
      defaultValue = "${DISTILL_ACCESS_LOG:-false}",
      description = "Log one line per HTTP request (default: $DISTILL_ACCESS_LOG, else off).")
  boolean accessLog;

  @Override
  public Integer call() throws Exception {
    try {
      LogSetup.apply(
          LogSetup.Settings.fromEnvironment()
              .withFormat(LogSetup.Format.parse(logFormat))
              .withAccessLog(accessLog));
    } catch (IllegalArgumentException e) {
      System.err.println("distill serve: " + e.getMessage());
      return 2;
    }
    if (store == null) {
      System.err.println(
          "distill serve: no model store (expected: --store DIR or the DISTILL_STORE variable)");
      return 2;
    }
    GatewayConfig.Builder builder;
    try {
      builder =
          config == null
              ? GatewayConfig.builder(store)
              : GatewayConfig.fromFile(store, config).toBuilder();
      if (port != null) {
        builder.port(port);
      }
      if (host != null) {
        builder.host(host);
      }
      if (grpcPort != null) {
        builder.grpcPort(grpcPort);
      } else if (!builder.grpcPortSet()) {
        builder.grpcPort(GatewayConfig.DEFAULT_GRPC_PORT);
      }
      if (adminToken != null) {
        builder.adminToken(adminToken);
      }
    } catch (RuntimeException e) {
      System.err.println("distill serve: " + e.getMessage());
      return 2;
    }
    GatewayConfig cfg = builder.build();
    ScaleConfig scale;
    try {
      scale = config == null ? ScaleConfig.OFF : ScaleConfig.fromFile(config);
      if (kafka != null && !kafka.isBlank()) {
        scale = scale.withKafka(kafka);
      }
    } catch (RuntimeException e) {
      System.err.println("distill serve: " + e.getMessage());
      return 2;
    }
    Running running;
    try {
      running = Running.start(cfg, scale);
    } catch (Exception e) {
      System.err.println("distill serve: cannot start: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = running.closeOnShutdown();
    Gateway gateway = running.gateway();
    String shownHost = cfg.host().equals("0.0.0.0") ? "localhost" : cfg.host();
    System.out.println(
        "distill gateway serving "
            + gateway.models().loadedNames()
            + " at http://"
            + shownHost
            + ":"
            + gateway.port()
            + "/v2"
            + (gateway.grpcPort() > 0 ? " and grpc://" + shownHost + ":" + gateway.grpcPort() : "")
            + " (dashboard: /dashboard; metrics: /metrics; Ctrl-C to stop)");
    System.out.flush();
    stopped.await();
    return 0;
  }

  /**
   * A started gateway with its experiment engine and the feedback and capture that observe it, as
   * {@code serve} and {@code demo} run it. Owns its {@link Vertx}; {@link #close()} shuts
   * everything down gracefully.
   */
  record Running(
      Vertx vertx,
      Gateway gateway,
      FeedbackRoutes feedback,
      CaptureRoutes capture,
      ExperimentRoutes experiments,
      JobRoutes jobs,
      LoopRoutes loop,
      ScaleRoutes scale) {

    static Running start(GatewayConfig cfg) throws Exception {
      return start(cfg, ScaleConfig.OFF);
    }

    /** Starts everything; with {@code scale.kafka()} set, experiment events go through Kafka. */
    static Running start(GatewayConfig shared, ScaleConfig scaleConfig) throws Exception {
      // with Kafka, instances may share the store: each keeps its own state in a folder of its own
      String instance =
          scaleConfig.kafka() == null ? null : scaleConfig.kafka().resolveInstanceId(shared.port());
      GatewayConfig cfg =
          instance == null
              ? shared
              : shared.toBuilder()
                  .stateDir(shared.store().resolve("instances").resolve(instance))
                  .build();
      // Netty's epoll transport on Linux (bundled), NIO elsewhere: fewer syscalls and copies per
      // request.
      Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
      Gateway gateway;
      try {
        gateway = Gateway.start(vertx, cfg).await();
      } catch (Exception e) {
        vertx.close().await();
        throw e;
      }
      DashboardRoutes.install(gateway);
      CaptureRoutes capture = null;
      ExperimentRoutes experiments;
      FeedbackRoutes feedback;
      try {
        feedback =
            FeedbackRoutes.install(
                gateway, FeedbackService.DEFAULT_MAX_ENTRIES, scaleConfig.feedbackKey());
        capture =
            CaptureRoutes.install(
                gateway,
                CaptureService.Options.DEFAULT.withLimits(
                    CaptureWriter.Limits.DEFAULT.withFsyncIntervalMillis(
                        cfg.captureFsyncInterval().toMillis())),
                feedback.service());
        experiments =
            ExperimentRoutes.install(
                    gateway,
                    ExperimentService.Options.DEFAULT,
                    feedback.service(),
                    capture.service())
                .await();
      } catch (Exception e) {
        if (capture != null) {
          capture.close().await();
        }
        gateway.close().await();
        vertx.close().await();
        throw new IllegalStateException("cannot start experiments: " + e.getMessage(), e);
      }
      JobRoutes jobs = null;
      try {
        jobs = JobRoutes.install(gateway, canaries(vertx, gateway, experiments.service())).await();
        LoopRoutes loop = LoopRoutes.install(gateway, jobs.service()).await();
        ScaleRoutes scale =
            scaleConfig.kafka() == null
                ? null
                : ScaleRoutes.install(gateway, scaleConfig.kafka(), instance, experiments.service())
                    .await();
        if (scale != null) {
          scale.shareCaptures(capture.service());
          jobs.service().externalRows(scale.externalRows());
        }
        return new Running(vertx, gateway, feedback, capture, experiments, jobs, loop, scale);
      } catch (Exception e) {
        if (jobs != null) {
          jobs.close().await();
        }
        experiments.close().await();
        capture.close().await();
        gateway.close().await();
        vertx.close().await();
        throw new IllegalStateException("cannot start jobs: " + e.getMessage(), e);
      }
    }

    /**
     * A successful job's canary: once the published version is loaded, it enters the experiment as
     * its next generation ({@link ExperimentService#addCanary}).
     */
    static CanaryHook canaries(Vertx vertx, Gateway gateway, ExperimentService experiments) {
      return (experiment, teacher, model, version, weight) ->
          gateway
              .models()
              .load(model, version, false)
              .compose(
                  loaded ->
                      vertx.executeBlocking(
                          () -> {
                            experiments.addCanary(experiment, teacher, model, version, weight);
                            return null;
                          },
                          false));
    }

    void close() throws Exception {
      if (scale != null) {
        scale.close().await();
      }
      loop.close();
      jobs.close().await();
      experiments.close().await();
      capture.close().await();
      gateway.close().await();
      vertx.close().await();
    }

    /** Closes on SIGTERM/SIGINT; the latch opens once closed. */
    CountDownLatch closeOnShutdown() {
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      // JUL may already be reset by its own shutdown hook: report on stderr
                      // directly.
                      System.err.println("distill: shutting down (draining in-flight requests)");
                      close();
                      System.err.println("distill: stopped");
                    } catch (Exception e) {
                      System.err.println("distill: shutdown: " + e.getMessage());
                    } finally {
                      stopped.countDown();
                    }
                  },
                  "distill-shutdown"));
      return stopped;
    }
  }
}
