package ai.distill.gateway.cli;

import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.demo.DemoExperiment;
import ai.distill.gateway.demo.TrafficSimulator;
import ai.distill.gateway.demo.WorldCandidates;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.logging.LogSetup;
import ai.distill.gateway.loop.RecalibrationPolicy;
import ai.distill.optimizer.world.CtrWorld;
import ai.distill.optimizer.world.DemoModels;
import ai.distill.store.ModelStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code demo [--store DIR] [--host 127.0.0.1] [--port 8080]}: the whole product on one machine. On
 * an empty store it builds the CTR world's teacher and its distilled (and INT8) students; then it
 * serves them, runs a live experiment between them and drives it with simulated users who click
 * with the world's true probabilities, until Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Build the demo CTR world (first run), serve it with a live A/B experiment and "
            + "simulated traffic.")
public final class DemoCommand implements Callable<Integer> {

  private static final String EXPERIMENT = "ctr-ab";

  @Option(
      names = "--store",
      defaultValue = "${DISTILL_STORE:-store}",
      description = "Model store (default: $DISTILL_STORE, else ./store).")
  Path store;

  @Option(
      names = "--host",
      defaultValue = "${DISTILL_HOST:-127.0.0.1}",
      description =
          "Address to bind (default: $DISTILL_HOST, else 127.0.0.1, this machine only; 0.0.0.0 "
              + "for every interface).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "${DISTILL_PORT:-8080}",
      description = "Port (default: $DISTILL_PORT, else 8080).")
  int port;

  @Option(
      names = "--rate",
      defaultValue = "100",
      description = "Simulated requests per second (default: 100; 0 = no traffic).")
  double rate;

  @Option(
      names = "--candidates",
      defaultValue = "32",
      description = "Candidates scored per request (default: 32).")
  int candidates;

  @Option(
      names = "--shift-after",
      defaultValue = "60",
      description =
          "Seconds after which the simulated population shifts (drift → recalibration → canary;"
              + " default: 60; 0 = never).")
  long shiftAfterSeconds;

  @Option(
      names = "--shift",
      defaultValue = "1.5",
      description = "How far the dense features shift, in standard deviations (default: 1.5).")
  double shiftSigmas;

  @Option(names = "--quick", description = "Build small demo models (seconds instead of minutes).")
  boolean quick;

  @Option(
      names = "--admin-token",
      description = "Admin token (default: $DISTILL_ADMIN_TOKEN, else <store>/admin.token).")
  String adminToken;

  /**
   * The gateway configuration from the options (the demo binds to {@code --host}, loopback by
   * default).
   */
  GatewayConfig.Builder gatewayConfig() {
    GatewayConfig.Builder config = GatewayConfig.builder(store).host(host).port(port);
    if (adminToken != null) {
      config.adminToken(adminToken);
    }
    return config;
  }

  // Where the simulator and the printed URLs reach the gateway: a wildcard bind is reached on
  // loopback.
  String connectHost() {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? "127.0.0.1" : host;
  }

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
      System.err.println("distill demo: " + e.getMessage());
      return 2;
    }
    ModelStore modelStore = ModelStore.open(store);
    DemoModels.Options options = quick ? DemoModels.Options.small() : DemoModels.Options.defaults();
    System.err.println("distill demo: store " + store.toAbsolutePath());
    DemoModels.Result models =
        DemoModels.ensure(modelStore, options, line -> System.err.println("  " + line));

    GatewayConfig.Builder config = gatewayConfig();
    ServeCommand.Running running;
    try {
      running = ServeCommand.Running.start(config.build());
    } catch (Exception e) {
      System.err.println("distill demo: cannot start: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = running.closeOnShutdown();
    ExperimentService experiments = running.experiments().service();
    if (!experiments.isExperiment(EXPERIMENT)) {
      experiments.create(DemoExperiment.definition(EXPERIMENT, models));
    }
    if (models.int8Student() != null) {
      RecalibrationPolicy policy = DemoExperiment.policy(EXPERIMENT, models.int8Student().name());
      running.loop().service().put(policy);
      System.err.println("distill demo: recalibration policy " + policy.toJson().encode());
    }
    int actualPort = running.gateway().port();
    TrafficSimulator traffic = null;
    WorldCandidates world = new WorldCandidates(CtrWorld.demo(), candidates);
    if (rate > 0) {
      traffic =
          new TrafficSimulator(
              running.vertx(),
              world,
              new TrafficSimulator.Options(
                  connectHost(),
                  actualPort,
                  EXPERIMENT,
                  20_000,
                  3,
                  rate,
                  64,
                  0,
                  System.nanoTime()));
      traffic.start();
      if (shiftAfterSeconds > 0) {
        running
            .vertx()
            .setTimer(
                shiftAfterSeconds * 1000,
                id -> {
                  world.shift(shiftSigmas);
                  System.err.println(
                      "distill demo: the simulated world shifts now: every dense feature moves by "
                          + shiftSigmas
                          + " standard deviations (expect: drift detected, recalibration job,"
                          + " canary in "
                          + EXPERIMENT
                          + ", decision)");
                });
      }
    }
    String base =
        "http://"
            + (connectHost().contains(":") ? "[" + connectHost() + "]" : connectHost())
            + ":"
            + actualPort;
    System.out.println(
        "distill demo serving " + running.gateway().models().loadedNames() + " at " + base + "/v2");
    System.out.println("  dashboard:   " + base + "/dashboard");
    System.out.println("  experiment:  " + base + "/v1/experiments/" + EXPERIMENT);
    System.out.println("  metrics:     " + base + "/metrics");
    System.out.println(
        "  loop:        curl -s -H \"Authorization: Bearer $(cat "
            + store.resolve("admin.token")
            + ")\" "
            + base
            + "/admin/v1/policies   (and /admin/v1/jobs)");
    System.out.println(
        "  infer:       curl -s " + base + "/v2/models/" + EXPERIMENT + "/infer -d @request.json");
    System.out.println(
        "  Ctrl-C to stop"
            + (traffic == null
                ? ""
                : " (simulated traffic: "
                    + rate
                    + " requests/s of "
                    + candidates
                    + " candidates)"));
    System.out.flush();
    stopped.await();
    if (traffic != null) {
      System.err.println("distill demo: traffic " + traffic.summary());
    }
    return 0;
  }
}
