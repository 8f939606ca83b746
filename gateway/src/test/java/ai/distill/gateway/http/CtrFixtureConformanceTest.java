package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conformance on a model a real exporter wrote: ../shared/fixtures/ctr-mlp-torch served over HTTP
 * reproduces PyTorch's own outputs (the {@code teacher} column) within 1e-4 on every row.
 */
class CtrFixtureConformanceTest {

  static final int ROWS_PER_REQUEST = 64;

  @TempDir Path dir;

  static Path fixture() {
    String shared = System.getProperty("distill.shared.dir");
    Path f = shared == null ? null : Path.of(shared, "fixtures", "ctr-mlp-torch");
    Assumptions.assumeTrue(
        f != null && Files.isRegularFile(f.resolve("model.onnx")),
        "fixture ctr-mlp-torch not found (system property distill.shared.dir="
            + shared
            + "): skipping the conformance test");
    return f;
  }

  @Test
  void served_outputs_equal_the_exported_teacher_column() throws Exception {
    Path fixture = fixture();
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(PublishRequest.fromFile("ctr", fixture.resolve("model.onnx"), Role.TEACHER));
    List<JsonObject> rows = new ArrayList<>();
    for (String line : Files.readAllLines(fixture.resolve("rows.jsonl"))) {
      if (!line.isBlank()) {
        rows.add(new JsonObject(line));
      }
    }
    assertEquals(20_000, rows.size());
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway =
        Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    try {
      WebClient client = TestGateways.client(vertx);
      int checked = 0;
      double worst = 0;
      for (int start = 0; start < rows.size(); start += ROWS_PER_REQUEST * 8) {
        List<Future<HttpResponse<Buffer>>> inFlight = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        for (int s = start;
            s < Math.min(rows.size(), start + ROWS_PER_REQUEST * 8);
            s += ROWS_PER_REQUEST) {
          starts.add(s);
          inFlight.add(
              client
                  .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
                  .sendJsonObject(
                      request(rows.subList(s, Math.min(rows.size(), s + ROWS_PER_REQUEST)))));
        }
        Future.all(inFlight).await(60, TimeUnit.SECONDS);
        for (int k = 0; k < inFlight.size(); k++) {
          HttpResponse<Buffer> r = inFlight.get(k).result();
          assertEquals(200, r.statusCode(), r.bodyAsString());
          JsonArray prob =
              r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
          for (int i = 0; i < prob.size(); i++) {
            double teacher = rows.get(starts.get(k) + i).getDouble("teacher");
            double served = prob.getDouble(i);
            worst = Math.max(worst, Math.abs(teacher - served));
            assertEquals(teacher, served, 1e-4, "row " + (starts.get(k) + i));
            checked++;
          }
        }
      }
      assertEquals(rows.size(), checked);
      assertTrue(worst < 1e-4, "worst difference " + worst);
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
  }

  // One OIP request of the rows' inputs, flat data, shapes [n, width] read from the rows.
  static JsonObject request(List<JsonObject> rows) {
    JsonObject first = rows.get(0).getJsonObject("inputs");
    JsonArray inputs = new JsonArray();
    for (String name : first.fieldNames()) {
      JsonArray data = new JsonArray();
      int width = first.getJsonArray(name).size();
      for (JsonObject row : rows) {
        for (Object v : row.getJsonObject("inputs").getJsonArray(name)) {
          data.add(v);
        }
      }
      boolean integers =
          first.getJsonArray(name).getValue(0) instanceof Integer
              || first.getJsonArray(name).getValue(0) instanceof Long;
      inputs.add(
          new JsonObject()
              .put("name", name)
              .put("datatype", integers ? "INT64" : "FP32")
              .put("shape", new JsonArray().add(rows.size()).add(width))
              .put("data", data));
    }
    return new JsonObject().put("inputs", inputs);
  }
}
