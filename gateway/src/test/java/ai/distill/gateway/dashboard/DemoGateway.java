package ai.distill.gateway.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.demo.DemoExperiment;
import ai.distill.gateway.demo.TrafficSimulator;
import ai.distill.gateway.demo.WorldCandidates;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobRoutes;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.world.CtrWorld;
import ai.distill.optimizer.world.DemoModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A gateway wired as {@code distill demo} runs it (feedback, capture, experiments, jobs and the
 * dashboard) over the small demo world, with the experiment {@value #EXPERIMENT} between the
 * teacher and its students, after {@code requests} simulated requests of 8 candidates each (clicks
 * included). For tests; {@link #close()} stops everything.
 */
final class DemoGateway implements AutoCloseable {

  static final String EXPERIMENT = "ctr-ab";
  static final int CANDIDATES = 8;

  final Vertx vertx;
  final Gateway gateway;
  final WebClient client;
  private final FeedbackRoutes feedback;
  private final CaptureRoutes capture;
  private final ExperimentRoutes experiments;
  private final JobRoutes jobs;
  private final ai.distill.gateway.loop.LoopRoutes loop;

  private DemoGateway(Path dir) {
    Path storeDir = dir.resolve("store");
    ModelStore store = ModelStore.open(storeDir);
    DemoModels.Result models = DemoModels.ensure(store, DemoModels.Options.small(), line -> {});
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(storeDir).build()).await();
    DashboardRoutes.install(gateway);
    feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
    capture = CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
    experiments =
        ExperimentRoutes.install(
                gateway, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
            .await();
    jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();
    loop = ai.distill.gateway.loop.LoopRoutes.install(gateway, jobs.service()).await();
    experiments.service().create(DemoExperiment.definition(EXPERIMENT, models));
    client = TestGateways.client(vertx);
  }

  /** Starts the gateway and sends {@code requests} simulated requests through the experiment. */
  static DemoGateway start(Path dir, int requests) throws Exception {
    DemoGateway g = new DemoGateway(dir);
    TrafficSimulator traffic = g.traffic(200, requests, 11);
    traffic.start();
    traffic.finished().await(120, TimeUnit.SECONDS);
    traffic.stop().await();
    assertEquals(0, traffic.failed(), traffic.summary());
    return g;
  }

  /** Simulated users of the experiment; {@code requests} 0 = until stopped. */
  TrafficSimulator traffic(double perSecond, long requests, long seed) {
    return new TrafficSimulator(
        vertx,
        new WorldCandidates(CtrWorld.demo(), CANDIDATES),
        new TrafficSimulator.Options(
            "127.0.0.1", gateway.port(), EXPERIMENT, 400, 3, perSecond, 16, requests, seed));
  }

  int port() {
    return gateway.port();
  }

  /** GET {@code path} (with the admin token on admin paths); asserts 200. */
  JsonObject get(String path) {
    var req = client.get(gateway.port(), "127.0.0.1", path);
    if (path.startsWith("/admin/")) {
      req.putHeader("Authorization", "Bearer " + gateway.adminToken());
    }
    var r = req.send().await();
    assertEquals(200, r.statusCode(), path + ": " + r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  /** The text of GET {@code path}. */
  String text(String path) {
    return client.get(gateway.port(), "127.0.0.1", path).send().await().bodyAsString();
  }

  @Override
  public void close() {
    loop.close();
    jobs.close().await();
    experiments.close().await();
    capture.close().await();
    gateway.close().await();
    vertx.close().await();
  }
}
