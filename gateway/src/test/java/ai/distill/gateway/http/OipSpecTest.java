package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.OipSchemaValidator;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of response body the OIP spec defines, validated against the spec's schemas. */
class OipSpecTest {

  @TempDir Path dir;

  @Test
  void responses_satisfy_the_open_inference_protocol_schemas() {
    OipSchemaValidator oip = OipSchemaValidator.loadOrSkip();
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway =
        Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    try {
      WebClient client = TestGateways.client(vertx);
      int port = gateway.port();
      oip.assertValid(
          "metadata_server_response",
          client.get(port, "127.0.0.1", "/v2").send().await().bodyAsString());
      oip.assertValid(
          "metadata_model_response",
          client.get(port, "127.0.0.1", "/v2/models/ctr").send().await().bodyAsString());
      HttpResponse<Buffer> missing =
          client.get(port, "127.0.0.1", "/v2/models/nope").send().await();
      assertEquals(404, missing.statusCode());
      oip.assertValid("metadata_model_error_response", missing.bodyAsString());
      JsonObject request =
          CtrRequests.request("s1", new float[] {1, 2, 3, 4, 5, 6}, new long[] {1, 2, 3, 4});
      HttpResponse<Buffer> ok =
          client.post(port, "127.0.0.1", "/v2/models/ctr/infer").sendJsonObject(request).await();
      assertEquals(200, ok.statusCode());
      oip.assertValidInferenceResponse(ok.body(), null);
      HttpResponse<Buffer> binary =
          client
              .post(port, "127.0.0.1", "/v2/models/ctr/infer")
              .sendJsonObject(
                  request
                      .copy()
                      .put("parameters", new JsonObject().put("binary_data_output", true)))
              .await();
      assertEquals(200, binary.statusCode());
      oip.assertValidInferenceResponse(
          binary.body(), Integer.valueOf(binary.getHeader("Inference-Header-Content-Length")));
      HttpResponse<Buffer> bad =
          client
              .post(port, "127.0.0.1", "/v2/models/ctr/infer")
              .sendJsonObject(new JsonObject().put("inputs", "nope"))
              .await();
      assertEquals(400, bad.statusCode());
      oip.assertValid("inference_error_response", bad.bodyAsString());
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
  }
}
