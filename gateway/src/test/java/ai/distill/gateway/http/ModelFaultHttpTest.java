package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.protocol.InferRequestEncoder;
import ai.distill.gateway.protocol.InferResponseEncoder;
import ai.distill.gateway.runtime.ModelPolicy;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.ModelStore;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The input policy and model fault isolation over HTTP: non-finite inputs are 400 (JSON and binary
 * extension), a model that answers NaN is a 502 and then an open circuit (503), while another model
 * keeps answering.
 */
class ModelFaultHttpTest {

  @TempDir Path dir;
  private Vertx vertx;
  private Gateway gateway;
  private WebClient client;

  /** y = sqrt(x): NaN for negative x, a "model that returns NaN for some inputs". */
  static OnnxModel sqrtModel() {
    return GraphBuilder.create("sqrt")
        .input("x", DataType.FLOAT, -1, 1)
        .op("Sqrt", "x", "y")
        .output("y", DataType.FLOAT, -1, 1)
        .build();
  }

  @BeforeEach
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    TestGateways.publish(store, "sqrt", sqrtModel());
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .modelPolicy("ctr", ModelPolicy.DEFAULT.withProbabilityOutputs(Set.of("prob")))
                    .modelPolicy(
                        "sqrt",
                        ModelPolicy.DEFAULT
                            .withAllowNonFinite(true)
                            .withBreaker(3, Duration.ofMinutes(5)))
                    .build())
            .await();
    client = TestGateways.client(vertx);
  }

  @AfterEach
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  private HttpResponse<Buffer> post(String model, JsonObject body) {
    return client
        .post(gateway.port(), "127.0.0.1", "/v2/models/" + model + "/infer")
        .sendJsonObject(body)
        .await();
  }

  private static JsonObject sqrtRequest(Object x) {
    return new JsonObject()
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "x")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(1))
                        .put("data", new JsonArray().add(x))));
  }

  @Test
  void non_finite_json_input_is_400_naming_input_and_index() {
    for (String literal : new String[] {"\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN"}) {
      String body =
          "{\"inputs\":[{\"name\":\"dense\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[0.5,1,"
              + literal
              + "]},{\"name\":\"sparse\",\"datatype\":\"INT64\",\"shape\":[1,2],\"data\":[1,2]}]}";
      HttpResponse<Buffer> r =
          client
              .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
              .sendBuffer(Buffer.buffer(body))
              .await();
      assertEquals(400, r.statusCode(), literal + ": " + r.bodyAsString());
      String error = r.bodyAsJsonObject().getString("error");
      assertTrue(
          error.contains("input 'dense'") && error.contains("at index 2"), literal + ": " + error);
    }
  }

  @Test
  void non_finite_binary_input_is_400_naming_input_and_index() {
    InferRequest req =
        new InferRequest(
            "b",
            List.of(
                Tensor.ofFloats("dense", new long[] {2, 3}, 1, 2, 3, 4, Float.NaN, 6),
                Tensor.ofLongs("sparse", new long[] {2, 2}, 1, 2, 3, 4)),
            List.of(),
            false,
            Map.of());
    InferResponseEncoder.Encoded enc = new InferRequestEncoder().encode(req, true);
    HttpResponse<Buffer> r =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader(
                "Inference-Header-Content-Length",
                Integer.toString(enc.inferenceHeaderContentLength()))
            .putHeader("Content-Type", enc.contentType())
            .sendBuffer(enc.body())
            .await();
    assertEquals(400, r.statusCode(), r.bodyAsString());
    assertEquals(
        "input 'dense': value NaN at index 4 is not finite (FP32); model ctr refuses NaN and"
            + " Infinity (allow them with models.ctr.allow_non_finite)",
        r.bodyAsJsonObject().getString("error"));
  }

  @Test
  void a_model_returning_nan_is_502_then_its_circuit_opens_and_other_models_keep_serving() {
    assertEquals(200, post("sqrt", sqrtRequest(4.0)).statusCode());
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> r = post("sqrt", sqrtRequest(-1.0));
      assertEquals(502, r.statusCode(), r.bodyAsString());
      assertEquals(
          "model sqrt produced a non-finite value NaN in output 'y' at index 0",
          r.bodyAsJsonObject().getString("error"));
      assertEquals(
          200,
          post("ctr", CtrRequests.request("c" + i, new float[] {1, 2, 3}, new long[] {1, 2}))
              .statusCode());
    }
    HttpResponse<Buffer> open = post("sqrt", sqrtRequest(4.0));
    assertEquals(503, open.statusCode(), open.bodyAsString());
    assertEquals("300", open.getHeader("Retry-After"));
    assertTrue(open.bodyAsJsonObject().getString("error").contains("circuit is open"));
    HttpResponse<Buffer> ctr =
        post("ctr", CtrRequests.request("ok", new float[] {1, 2, 3}, new long[] {1, 2}));
    assertEquals(200, ctr.statusCode(), ctr.bodyAsString());
    String metrics =
        client.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    assertTrue(metrics.contains("distill_model_circuit_state{model=\"sqrt\"} 2.0"), metrics);
    assertTrue(metrics.contains("distill_model_circuit_state{model=\"ctr\"} 0.0"), metrics);
    assertTrue(
        metrics.contains("distill_model_faults_total{kind=\"bad_output\",model=\"sqrt\"} 3.0"),
        metrics);
    assertTrue(
        metrics.contains("distill_model_faults_total{kind=\"circuit_open\",model=\"sqrt\"} 1.0"),
        metrics);
  }
}
