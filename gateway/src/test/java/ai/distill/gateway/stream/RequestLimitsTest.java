package ai.distill.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.GatewayConfig;
import ai.distill.gateway.RequestLimits;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code max_rows_per_request} and {@code stream.max_rows}: refused clearly, counted, bounded. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestLimitsTest {

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;
  WebClient web;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "tiny", TinyModels.mlp(4, new int[] {4}, 3));
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store")).limits(new RequestLimits(4, 3)).build())
            .await();
    web = TestGateways.client(vertx);
  }

  @AfterAll
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  HttpResponse<Buffer> infer(int rows) {
    JsonArray data = new JsonArray();
    for (int i = 0; i < rows * 4; i++) {
      data.add(0.25f);
    }
    JsonObject body =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "x")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(rows).add(4))
                            .put("data", data)));
    return web.post(gateway.port(), "127.0.0.1", "/v2/models/tiny/infer")
        .sendJsonObject(body)
        .await();
  }

  @Test
  void a_request_over_the_row_limit_is_413_naming_the_setting_and_the_gateway_keeps_serving() {
    HttpResponse<Buffer> over = infer(5);
    assertEquals(413, over.statusCode(), over.bodyAsString());
    String error = over.bodyAsJsonObject().getString("error");
    assertTrue(
        error.contains("the request has 5 rows")
            && error.contains("at most 4")
            && error.contains("max_rows_per_request"),
        error);
    HttpResponse<Buffer> at = infer(4);
    assertEquals(200, at.statusCode(), at.bodyAsString());
    assertEquals(
        4,
        at.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").size());
  }

  List<String> stream(int lines) {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      body.append(NdjsonStreamTest.row(i));
    }
    return web.post(gateway.port(), "127.0.0.1", "/v1/models/tiny/stream")
        .sendBuffer(Buffer.buffer(body.toString()))
        .await()
        .bodyAsString()
        .lines()
        .toList();
  }

  @Test
  void a_stream_answers_up_to_its_line_limit_then_one_error_and_reads_no_further() {
    List<String> over = stream(7);
    assertEquals(4, over.size(), over.toString());
    for (int i = 0; i < 3; i++) {
      assertTrue(new JsonObject(over.get(i)).containsKey("outputs"), over.get(i));
    }
    JsonObject last = new JsonObject(over.get(3));
    assertEquals(3, last.getInteger("row"));
    assertTrue(last.getString("error").contains("stream.max_rows"), last.encode());
    List<String> at = stream(3);
    assertEquals(3, at.size(), at.toString());
    at.forEach(l -> assertTrue(new JsonObject(l).containsKey("outputs"), l));
  }

  @Test
  void limits_come_from_the_json_config_and_negative_ones_are_refused() {
    GatewayConfig c =
        GatewayConfig.fromJson(
                dir,
                new JsonObject()
                    .put("max_rows_per_request", 10)
                    .put("stream", new JsonObject().put("max_rows", 1000)))
            .build();
    assertEquals(new RequestLimits(10, 1000), c.limits());
    assertEquals(
        RequestLimits.DEFAULT, GatewayConfig.fromJson(dir, new JsonObject()).build().limits());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GatewayConfig.fromJson(dir, new JsonObject().put("max_rows_per_request", -1)));
    assertTrue(e.getMessage().contains("max_rows_per_request: -1"), e.getMessage());
  }
}
