package ai.distill.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} passes {@code promtool check metrics} (skipped when promtool is absent). */
class PromtoolCheckTest {

  @TempDir Path dir;

  static String promtool() {
    for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(p, "promtool");
      if (f.canExecute()) {
        return f.getPath();
      }
    }
    return null;
  }

  @Test
  void metrics_exposition_passes_promtool_check_metrics() throws Exception {
    String promtool = promtool();
    Assumptions.assumeTrue(
        promtool != null,
        "promtool not on PATH: install it (apt-get install -y prometheus) to run this check");
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "mlp", TinyModels.mlp(4, new int[] {3}, 1));
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway =
        Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    String exposition;
    try {
      WebClient client = TestGateways.client(vertx);
      JsonObject request =
          new JsonObject()
              .put(
                  "inputs",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("name", "x")
                              .put("datatype", "FP32")
                              .put("shape", new JsonArray().add(1).add(4))
                              .put("data", new JsonArray().add(1).add(2).add(3).add(4))));
      assertEquals(
          200,
          client
              .post(gateway.port(), "127.0.0.1", "/v2/models/mlp/infer")
              .sendJsonObject(request)
              .await()
              .statusCode());
      assertEquals(
          404,
          client
              .post(gateway.port(), "127.0.0.1", "/v2/models/mlp/versions/7/infer")
              .sendJsonObject(request)
              .await()
              .statusCode());
      exposition =
          client.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
    for (String family :
        new String[] {
          "distill_requests_total",
          "distill_request_duration_seconds",
          "distill_queue_wait_seconds",
          "distill_compute_duration_seconds",
          "distill_batch_rows",
          "distill_queue_depth",
          "distill_inflight_requests",
          "distill_loaded_versions",
          "distill_model_loads_total",
          "jvm_threads_current"
        }) {
      assertTrue(
          exposition.contains("\n" + family) || exposition.startsWith(family),
          family + " missing from\n" + exposition);
    }
    Path file = dir.resolve("metrics.txt");
    Files.writeString(file, exposition);
    Process p =
        new ProcessBuilder(promtool, "check", "metrics")
            .redirectInput(file.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "promtool check metrics:\n" + output);
  }
}
