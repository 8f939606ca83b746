package ai.distill.gateway.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.experiment.ExperimentJson;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.world.CtrWorld;
import ai.distill.optimizer.world.DemoModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's loop on small models: simulated users are served through the experiment, and every
 * click they report is joined to its impression in the experiment's counts.
 */
class DemoLoopTest {

  private static final int REQUESTS = 120;
  private static final int CANDIDATES = 8;

  @Test
  void simulated_users_are_served_through_the_experiment_and_their_clicks_counted(@TempDir Path dir)
      throws Exception {
    ModelStore store = ModelStore.open(dir);
    DemoModels.Result models =
        DemoModels.ensure(store, DemoModels.Options.small().withInt8(false), line -> {});
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway = Gateway.start(vertx, TestGateways.config(dir).build()).await();
    FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
    CaptureRoutes capture =
        CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
    ExperimentRoutes experiments =
        ExperimentRoutes.install(
                gateway, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
            .await();
    try {
      experiments.service().create(DemoExperiment.definition("demo-ab", models));
      TrafficSimulator traffic =
          new TrafficSimulator(
              vertx,
              new WorldCandidates(CtrWorld.demo(), CANDIDATES),
              new TrafficSimulator.Options(
                  "127.0.0.1", gateway.port(), "demo-ab", 500, 3, 400, 16, REQUESTS, 7));
      traffic.start();
      traffic.finished().await(120, TimeUnit.SECONDS);
      traffic.stop().await();

      assertEquals(0, traffic.failed(), traffic.summary());
      JsonObject stats = ExperimentJson.view(experiments.service().get("demo-ab"));
      JsonArray variants = stats.getJsonArray("variants");
      long impressions = 0;
      long clicks = 0;
      for (int i = 0; i < variants.size(); i++) {
        impressions += variants.getJsonObject(i).getLong("impressions");
        clicks += variants.getJsonObject(i).getLong("clicks");
      }
      assertEquals((long) REQUESTS * CANDIDATES, impressions, stats.encodePrettily());
      assertEquals(traffic.clicks(), clicks, stats.encodePrettily());
      assertTrue(
          traffic.clicks() > 0, "the world's users click now and then: " + traffic.summary());
      assertEquals(models.student().name(), variants.getJsonObject(1).getString("model"));
    } finally {
      experiments.close().await();
      capture.close().await();
      gateway.close().await();
      vertx.close().await();
    }
  }
}
