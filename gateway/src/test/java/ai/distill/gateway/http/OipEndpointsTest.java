package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.OipSchemaAssertions;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Every OIP endpoint and every bad input, against real ORT sessions on tiny models. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OipEndpointsTest {

  static final OnnxModel CTR = CtrRequests.CTR;
  static final OnnxModel MULTI = TinyModels.multiTypes(2);

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;
  WebClient client;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CTR);
    TestGateways.publish(store, "multi", MULTI);
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx, TestGateways.config(dir.resolve("store")).maxBodyBytes(64 * 1024).build())
            .await();
    client = TestGateways.client(vertx);
  }

  @AfterAll
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  @AfterEach
  void no_event_loop_was_blocked() {
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  HttpResponse<Buffer> get(String path) {
    return client.get(gateway.port(), "127.0.0.1", path).send().await();
  }

  HttpResponse<Buffer> post(String path, JsonObject body) {
    return client.post(gateway.port(), "127.0.0.1", path).sendJsonObject(body).await();
  }

  HttpResponse<Buffer> postRaw(String path, Buffer body) {
    return client
        .post(gateway.port(), "127.0.0.1", path)
        .putHeader("Content-Type", "application/json")
        .sendBuffer(body)
        .await();
  }

  void assertError(HttpResponse<Buffer> response, int status, String... mentions) {
    assertEquals(status, response.statusCode(), response.bodyAsString());
    assertTrue(response.getHeader("Content-Type").startsWith("application/json"));
    String error = response.bodyAsJsonObject().getString("error");
    assertNotNull(error, response.bodyAsString());
    OipSchemaAssertions.assertValid("inference_error_response", response.bodyAsJsonObject());
    for (String m : mentions) {
      assertTrue(error.contains(m), "error '" + error + "' should mention '" + m + "'");
    }
  }

  void assertStillServing() throws Exception {
    HttpResponse<Buffer> ok =
        post(
            "/v2/models/ctr/infer",
            CtrRequests.request("after", new float[] {1, 2, 3}, new long[] {1, 2}));
    assertEquals(200, ok.statusCode(), ok.bodyAsString());
    assertEquals(
        CtrRequests.ort(new float[] {1, 2, 3}, new long[] {1, 2})[0],
        ok.bodyAsJsonObject()
            .getJsonArray("outputs")
            .getJsonObject(0)
            .getJsonArray("data")
            .getFloat(0),
        0f);
  }

  @Test
  void health_endpoints_answer_200_while_serving() {
    assertEquals(200, get("/v2/health/live").statusCode());
    assertEquals(200, get("/v2/health/ready").statusCode());
  }

  @Test
  void server_metadata_advertises_the_binary_tensor_extension() {
    JsonObject meta = get("/v2").bodyAsJsonObject();
    OipSchemaAssertions.assertValid("metadata_server_response", meta);
    assertEquals("distill", meta.getString("name"));
    assertNotNull(meta.getString("version"));
    assertTrue(meta.getJsonArray("extensions").contains("binary_tensor_data"));
  }

  @Test
  void model_metadata_reads_the_signature_from_the_session_with_dynamic_dims() {
    JsonObject meta = get("/v2/models/ctr").bodyAsJsonObject();
    OipSchemaAssertions.assertValid("metadata_model_response", meta);
    assertEquals("ctr", meta.getString("name"));
    assertEquals(new JsonArray().add("1"), meta.getJsonArray("versions"));
    assertEquals("onnxruntime_onnx", meta.getString("platform"));
    JsonArray inputs = meta.getJsonArray("inputs");
    assertEquals(
        new JsonObject()
            .put("name", "dense")
            .put("datatype", "FP32")
            .put("shape", new JsonArray().add(-1).add(3)),
        inputs.getJsonObject(0));
    assertEquals(
        new JsonObject()
            .put("name", "sparse")
            .put("datatype", "INT64")
            .put("shape", new JsonArray().add(-1).add(2)),
        inputs.getJsonObject(1));
    assertEquals(
        new JsonObject()
            .put("name", "prob")
            .put("datatype", "FP32")
            .put("shape", new JsonArray().add(-1).add(1)),
        meta.getJsonArray("outputs").getJsonObject(0));
    assertEquals(200, get("/v2/models/ctr/versions/1").statusCode());
    assertError(get("/v2/models/ctr/versions/9"), 404, "ctr", "9");
    assertError(get("/v2/models/nope"), 404, "nope");
  }

  @Test
  void model_ready_is_200_for_loaded_versions_and_404_for_unknown_ones() {
    assertEquals(200, get("/v2/models/ctr/ready").statusCode());
    assertEquals(200, get("/v2/models/ctr/versions/1/ready").statusCode());
    assertEquals(404, get("/v2/models/ctr/versions/2/ready").statusCode());
    assertEquals(404, get("/v2/models/nope/ready").statusCode());
  }

  @Test
  void infer_returns_what_onnx_runtime_computes_and_echoes_the_id() throws Exception {
    float[] dense = {0.5f, -1f, 2f, 1f, 1f, 1f};
    long[] sparse = {3, 9, 0, 4};
    HttpResponse<Buffer> response =
        post("/v2/models/ctr/infer", CtrRequests.request("req-7", dense, sparse));
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertEquals("req-7", body.getString("id"));
    assertEquals("ctr", body.getString("model_name"));
    assertEquals("1", body.getString("model_version"));
    assertEquals("1", body.getJsonObject("parameters").getString("model_version"));
    JsonObject prob = body.getJsonArray("outputs").getJsonObject(0);
    assertEquals("prob", prob.getString("name"));
    assertEquals("FP32", prob.getString("datatype"));
    assertEquals(new JsonArray().add(2).add(1), prob.getJsonArray("shape"));
    float[] expected = CtrRequests.ort(dense, sparse);
    assertEquals(expected[0], prob.getJsonArray("data").getFloat(0), 0f);
    assertEquals(expected[1], prob.getJsonArray("data").getFloat(1), 0f);
    OipSchemaAssertions.assertValidInferResponse(body);
  }

  @Test
  void infer_with_a_form_content_type_is_read_as_json_not_form_decoded() throws Exception {
    float[] dense = {0.5f, -1f, 2f, 1f, 1f, 1f, 0f, 3f, -2f, 0.25f, 0.75f, 1.5f, -0.5f, 2f, 4f};
    long[] sparse = {3, 9, 0, 4, 1, 2, 7, 7, 5, 8};
    // What `curl -d @body.json` sends: a JSON body over the 1 KB form buffer, labelled as a form.
    String json = CtrRequests.request("form-1", dense, sparse).encodePrettily() + " ".repeat(4096);
    HttpResponse<Buffer> response =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader("Content-Type", "application/x-www-form-urlencoded")
            .sendBuffer(Buffer.buffer(json))
            .await();
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertEquals("form-1", body.getString("id"));
    JsonArray data = body.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    float[] expected = CtrRequests.ort(dense, sparse);
    assertEquals(5, data.size());
    for (int i = 0; i < 5; i++) {
      assertEquals(expected[i], data.getFloat(i), 0f);
    }
  }

  @Test
  void a_multipart_body_is_a_400_that_asks_for_json() {
    HttpResponse<Buffer> response =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader("Content-Type", "multipart/form-data; boundary=xyz")
            .sendBuffer(
                Buffer.buffer(
                    "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                        + "x".repeat(4096)
                        + "\r\n--xyz--\r\n"))
            .await();
    assertEquals(400, response.statusCode(), response.bodyAsString());
    assertNotNull(response.bodyAsJsonObject().getString("error"));
  }

  @Test
  void body_decoding_failures_map_to_400_never_500() {
    assertEquals(
        400,
        FailureHandler.status(
            new io.netty.handler.codec.http.multipart.HttpPostRequestDecoder
                .TooLongFormFieldException()));
    assertEquals(
        400,
        FailureHandler.status(
            new io.netty.handler.codec.DecoderException(
                new io.netty.handler.codec.http.multipart.HttpPostRequestDecoder
                    .ErrorDataDecoderException("bad"))));
    assertEquals(500, FailureHandler.status(new NullPointerException()));
  }

  @Test
  void infer_with_a_pinned_version_and_without_an_id_generates_one() {
    HttpResponse<Buffer> response =
        post(
            "/v2/models/ctr/versions/1/infer",
            CtrRequests.request(null, new float[] {1, 2, 3}, new long[] {1, 1}));
    assertEquals(200, response.statusCode(), response.bodyAsString());
    assertFalse(response.bodyAsJsonObject().getString("id").isBlank());
    assertError(
        post(
            "/v2/models/ctr/versions/2/infer",
            CtrRequests.request(null, new float[] {1, 2, 3}, new long[] {1, 1})),
        404,
        "ctr",
        "2");
    assertError(
        post(
            "/v2/models/ctr/versions/abc/infer",
            CtrRequests.request(null, new float[] {1, 2, 3}, new long[] {1, 1})),
        404,
        "abc");
  }

  @Test
  void every_datatype_round_trips_with_nested_data_and_selected_outputs() {
    JsonObject req =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(input("f32", "FP32", new JsonArray().add(new JsonArray().add(1.5).add(2))))
                    .add(
                        input("f64", "FP64", new JsonArray().add(new JsonArray().add(0.25).add(1))))
                    .add(input("i32", "INT32", new JsonArray().add(new JsonArray().add(-3).add(4))))
                    .add(
                        input(
                            "i64", "INT64", new JsonArray().add(new JsonArray().add(10).add(-20))))
                    .add(
                        input(
                            "i8", "INT8", new JsonArray().add(new JsonArray().add(-128).add(127))))
                    .add(input("u8", "UINT8", new JsonArray().add(new JsonArray().add(255).add(0))))
                    .add(
                        input(
                            "flag",
                            "BOOL",
                            new JsonArray().add(new JsonArray().add(true).add(false)))))
            .put(
                "outputs",
                new JsonArray()
                    .add(new JsonObject().put("name", "sum_i64"))
                    .add(new JsonObject().put("name", "sum_f64")));
    HttpResponse<Buffer> response = post("/v2/models/multi/infer", req);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonArray outputs = response.bodyAsJsonObject().getJsonArray("outputs");
    assertEquals(2, outputs.size());
    assertEquals("sum_i64", outputs.getJsonObject(0).getString("name"));
    assertEquals("INT64", outputs.getJsonObject(0).getString("datatype"));
    // 1.5+0.25-3+10-128+255+1 = 136.75 -> 136 ; 2+1+4-20+127+0+0 = 114
    assertEquals(new JsonArray().add(136).add(114), outputs.getJsonObject(0).getJsonArray("data"));
    assertEquals("FP64", outputs.getJsonObject(1).getString("datatype"));
    assertEquals(136.75, outputs.getJsonObject(1).getJsonArray("data").getDouble(0), 0);
    OipSchemaAssertions.assertValidInferResponse(response.bodyAsJsonObject());
  }

  static JsonObject input(String name, String datatype, JsonArray data) {
    return new JsonObject()
        .put("name", name)
        .put("datatype", datatype)
        .put("shape", new JsonArray().add(1).add(2))
        .put("data", data);
  }

  @Test
  void binary_tensor_extension_works_in_both_directions_mixed_with_json_inputs() throws Exception {
    float[] dense = {0.1f, 0.2f, 0.3f, 4f, 5f, 6f};
    long[] sparse = {1, 2, 3, 4};
    ByteBuffer bin = ByteBuffer.allocate(dense.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : dense) {
      bin.putFloat(f);
    }
    JsonObject header =
        new JsonObject()
            .put("id", "bin-1")
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "dense")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(2).add(3))
                            .put(
                                "parameters",
                                new JsonObject().put("binary_data_size", dense.length * 4)))
                    .add(
                        new JsonObject()
                            .put("name", "sparse")
                            .put("datatype", "INT64")
                            .put("shape", new JsonArray().add(2).add(2))
                            .put("data", new JsonArray().add(1).add(2).add(3).add(4))))
            .put(
                "outputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "prob")
                            .put("parameters", new JsonObject().put("binary_data", true))));
    Buffer json = header.toBuffer();
    Buffer body = Buffer.buffer().appendBuffer(json).appendBytes(bin.array());
    HttpResponse<Buffer> response =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader("Content-Type", "application/octet-stream")
            .putHeader("Inference-Header-Content-Length", Integer.toString(json.length()))
            .sendBuffer(body)
            .await();
    assertEquals(200, response.statusCode(), response.bodyAsString());
    assertEquals("application/octet-stream", response.getHeader("Content-Type"));
    int headerLength = Integer.parseInt(response.getHeader("Inference-Header-Content-Length"));
    OipSchemaAssertions.assertValidInferResponse(response.body(), headerLength);
    JsonObject responseHeader = new JsonObject(response.body().getBuffer(0, headerLength));
    assertEquals("bin-1", responseHeader.getString("id"));
    JsonObject prob = responseHeader.getJsonArray("outputs").getJsonObject(0);
    assertEquals(8, prob.getJsonObject("parameters").getInteger("binary_data_size"));
    ByteBuffer out =
        ByteBuffer.wrap(response.body().getBytes(headerLength, headerLength + 8))
            .order(ByteOrder.LITTLE_ENDIAN);
    float[] expected = CtrRequests.ort(dense, sparse);
    assertEquals(expected[0], out.getFloat(0), 0f);
    assertEquals(expected[1], out.getFloat(4), 0f);
  }

  @Test
  void repository_index_lists_every_stored_version_with_its_state() {
    JsonArray index =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/index")
            .send()
            .await()
            .bodyAsJsonArray();
    assertTrue(
        index.contains(
            new JsonObject().put("name", "ctr").put("version", "1").put("state", "READY")),
        index.encode());
    assertTrue(
        index.contains(
            new JsonObject().put("name", "multi").put("version", "1").put("state", "READY")),
        index.encode());
  }

  @Test
  void metrics_endpoint_exposes_request_counters() {
    post(
        "/v2/models/ctr/infer", CtrRequests.request("m", new float[] {1, 2, 3}, new long[] {1, 2}));
    HttpResponse<Buffer> metrics = get("/metrics");
    assertEquals(200, metrics.statusCode());
    String text = metrics.bodyAsString();
    assertTrue(
        text.contains(
            "distill_requests_total{model=\"ctr\",outcome=\"ok\",transport=\"http\",version=\"1\"}"),
        text);
    assertTrue(text.contains("distill_batch_rows_bucket"), text);
    assertTrue(text.contains("jvm_memory_used_bytes"), text);
  }

  @Test
  void load_and_unload_require_the_admin_token() {
    assertError(
        client.post(gateway.port(), "127.0.0.1", "/v2/repository/models/ctr/unload").send().await(),
        401,
        "token");
    assertError(
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/ctr/unload")
            .bearerTokenAuthentication("wrong")
            .send()
            .await(),
        403,
        "token");
    assertEquals(200, get("/v2/models/ctr/ready").statusCode());
  }

  @Test
  void admin_can_unload_and_load_a_model() {
    HttpResponse<Buffer> unload =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/multi/unload")
            .bearerTokenAuthentication("test-token")
            .send()
            .await();
    assertEquals(200, unload.statusCode(), unload.bodyAsString());
    assertEquals(404, get("/v2/models/multi/ready").statusCode());
    HttpResponse<Buffer> load =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/multi/load")
            .bearerTokenAuthentication("test-token")
            .sendJsonObject(new JsonObject().put("parameters", new JsonObject().put("version", 1)))
            .await();
    assertEquals(200, load.statusCode(), load.bodyAsString());
    assertEquals(200, get("/v2/models/multi/ready").statusCode());
    assertError(
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/nope/load")
            .bearerTokenAuthentication("test-token")
            .send()
            .await(),
        404,
        "nope");
  }

  // ---- bad input: a 4xx JSON error naming the input, expected and received; still serving ----

  @Test
  void malformed_json_is_400() throws Exception {
    assertError(postRaw("/v2/models/ctr/infer", Buffer.buffer("{\"inputs\": [")), 400);
    assertError(postRaw("/v2/models/ctr/infer", Buffer.buffer("")), 400);
    assertStillServing();
  }

  @Test
  void missing_input_is_400_naming_it() throws Exception {
    JsonObject req = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    req.getJsonArray("inputs").remove(1);
    assertError(post("/v2/models/ctr/infer", req), 400, "sparse");
    assertStillServing();
  }

  @Test
  void extra_input_is_400_naming_it() throws Exception {
    JsonObject req = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    req.getJsonArray("inputs")
        .add(
            new JsonObject()
                .put("name", "bogus")
                .put("datatype", "FP32")
                .put("shape", new JsonArray().add(1))
                .put("data", new JsonArray().add(1)));
    assertError(post("/v2/models/ctr/infer", req), 400, "bogus");
    assertStillServing();
  }

  @Test
  void wrong_datatype_is_400_with_expected_and_received() throws Exception {
    JsonObject req = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    req.getJsonArray("inputs")
        .getJsonObject(0)
        .put("datatype", "INT64")
        .put("data", new JsonArray().add(1).add(2).add(3));
    assertError(post("/v2/models/ctr/infer", req), 400, "dense", "FP32", "INT64");
    assertStillServing();
  }

  @Test
  void shape_with_wrong_rank_or_fixed_dim_is_400() throws Exception {
    JsonObject rank = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    rank.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(3));
    assertError(post("/v2/models/ctr/infer", rank), 400, "dense");
    JsonObject dim = CtrRequests.request("x", new float[] {1, 2, 3, 4}, new long[] {1, 2});
    dim.getJsonArray("inputs").getJsonObject(0).put("shape", new JsonArray().add(1).add(4));
    assertError(post("/v2/models/ctr/infer", dim), 400, "dense", "4");
    assertStillServing();
  }

  @Test
  void element_count_not_matching_the_shape_is_400() throws Exception {
    JsonObject req = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    req.getJsonArray("inputs").getJsonObject(0).put("data", new JsonArray().add(1).add(2));
    assertError(post("/v2/models/ctr/infer", req), 400, "dense");
    assertStillServing();
  }

  @Test
  void rows_that_differ_between_inputs_are_400() throws Exception {
    JsonObject req = CtrRequests.request("x", new float[] {1, 2, 3, 4, 5, 6}, new long[] {1, 2});
    HttpResponse<Buffer> response = post("/v2/models/ctr/infer", req);
    assertEquals(400, response.statusCode(), response.bodyAsString());
    assertStillServing();
  }

  @Test
  void non_numeric_and_out_of_range_values_are_400() throws Exception {
    JsonObject text = CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2});
    text.getJsonArray("inputs")
        .getJsonObject(0)
        .put("data", new JsonArray().add("a").add("b").add("c"));
    assertError(post("/v2/models/ctr/infer", text), 400, "dense");
    JsonObject req =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(input("f32", "FP32", new JsonArray().add(1).add(2)))
                    .add(input("f64", "FP64", new JsonArray().add(1).add(2)))
                    .add(input("i32", "INT32", new JsonArray().add(1).add(2)))
                    .add(input("i64", "INT64", new JsonArray().add(1).add(2)))
                    .add(input("i8", "INT8", new JsonArray().add(300).add(2)))
                    .add(input("u8", "UINT8", new JsonArray().add(1).add(2)))
                    .add(input("flag", "BOOL", new JsonArray().add(true).add(false))));
    assertError(post("/v2/models/multi/infer", req), 400, "i8", "300");
    assertStillServing();
  }

  @Test
  void ids_outside_an_embedding_table_are_400_not_500_and_do_not_poison_a_batch() throws Exception {
    HttpResponse<Buffer> response =
        post(
            "/v2/models/ctr/infer",
            CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 5000}));
    assertError(response, 400, "ctr");
    assertStillServing();
  }

  @Test
  void a_form_encoded_body_with_too_many_fields_is_400_not_500() throws Exception {
    String form = "a=1&".repeat(5000) + "b=2";
    HttpResponse<Buffer> response =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader("Content-Type", "application/x-www-form-urlencoded")
            .sendBuffer(Buffer.buffer(form))
            .await();
    assertEquals(400, response.statusCode(), response.bodyAsString());
    assertStillServing();
  }

  @Test
  void unknown_model_is_404() throws Exception {
    assertError(
        post(
            "/v2/models/nope/infer",
            CtrRequests.request("x", new float[] {1, 2, 3}, new long[] {1, 2})),
        404,
        "nope");
    assertError(get("/v2/no/such/endpoint"), 404);
    assertStillServing();
  }

  @Test
  void body_over_the_limit_is_413() throws Exception {
    Buffer big = Buffer.buffer("{\"inputs\": [], \"pad\": \"" + "x".repeat(100_000) + "\"}");
    assertError(postRaw("/v2/models/ctr/infer", big), 413, "limit");
    assertStillServing();
  }
}
