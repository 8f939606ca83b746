package ai.distill.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.grpc.proto.InferTensorContents;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelMetadataRequest;
import ai.distill.gateway.grpc.proto.ModelMetadataResponse;
import ai.distill.gateway.grpc.proto.ModelReadyRequest;
import ai.distill.gateway.grpc.proto.ModelReadyResponse;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import ai.distill.gateway.grpc.proto.RepositoryIndexRequest;
import ai.distill.gateway.grpc.proto.RepositoryIndexResponse;
import ai.distill.gateway.grpc.proto.RepositoryModelUnloadRequest;
import ai.distill.gateway.grpc.proto.RepositoryModelUnloadResponse;
import ai.distill.gateway.grpc.proto.ServerLiveRequest;
import ai.distill.gateway.grpc.proto.ServerLiveResponse;
import ai.distill.gateway.grpc.proto.ServerMetadataRequest;
import ai.distill.gateway.grpc.proto.ServerMetadataResponse;
import ai.distill.gateway.grpc.proto.ServerReadyRequest;
import ai.distill.gateway.grpc.proto.ServerReadyResponse;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import com.google.protobuf.ByteString;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC of the OIP gRPC service, compared with HTTP on the same rows. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcInferenceServiceTest {

  static final float[] DENSE = {0.1f, 0.2f, 0.3f, 1, 2, 3, -1, 0, 0.5f};
  static final long[] SPARSE = {1, 2, 3, 4, 9, 0};

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;
  WebClient http;
  OipGrpcClient grpc;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    TestGateways.publish(store, "spare", CtrRequests.CTR);
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(vertx, TestGateways.config(dir.resolve("store")).grpcPort(-1).build())
            .await();
    http = TestGateways.client(vertx);
    grpc = new OipGrpcClient(vertx, gateway.grpcPort());
  }

  @AfterAll
  void stop() {
    grpc.close();
    gateway.close().await();
    vertx.close().await();
  }

  @AfterEach
  void no_event_loop_was_blocked() {
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  static ModelInferRequest typedRequest(String model, String id) {
    InferTensorContents.Builder dense = InferTensorContents.newBuilder();
    for (float f : DENSE) dense.addFp32Contents(f);
    InferTensorContents.Builder sparse = InferTensorContents.newBuilder();
    for (long l : SPARSE) sparse.addInt64Contents(l);
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .setId(id)
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("dense")
                .setDatatype("FP32")
                .addShape(3)
                .addShape(3)
                .setContents(dense))
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("sparse")
                .setDatatype("INT64")
                .addShape(3)
                .addShape(2)
                .setContents(sparse))
        .build();
  }

  static ModelInferRequest rawRequest(String model) {
    ByteBuffer d = ByteBuffer.allocate(DENSE.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : DENSE) d.putFloat(f);
    ByteBuffer s = ByteBuffer.allocate(SPARSE.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long l : SPARSE) s.putLong(l);
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("dense")
                .setDatatype("FP32")
                .addShape(3)
                .addShape(3))
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("sparse")
                .setDatatype("INT64")
                .addShape(3)
                .addShape(2))
        .addRawInputContents(ByteString.copyFrom(d.flip()))
        .addRawInputContents(ByteString.copyFrom(s.flip()))
        .build();
  }

  static float[] probs(ModelInferResponse r) {
    assertEquals("prob", r.getOutputs(0).getName());
    assertEquals("FP32", r.getOutputs(0).getDatatype());
    ByteBuffer b = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    for (int i = 0; i < out.length; i++) out[i] = b.getFloat();
    return out;
  }

  float[] httpProbs() {
    JsonObject body =
        http.post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
            .sendJsonObject(CtrRequests.request("h", DENSE, SPARSE))
            .await()
            .bodyAsJsonObject();
    JsonArray data = body.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    float[] out = new float[data.size()];
    for (int i = 0; i < out.length; i++) out[i] = data.getFloat(i);
    return out;
  }

  @Test
  void health_and_server_metadata_answer_like_http() {
    ServerLiveResponse live =
        grpc.call(
            "ServerLive",
            ServerLiveRequest.getDefaultInstance(),
            ServerLiveResponse.getDefaultInstance());
    ServerReadyResponse ready =
        grpc.call(
            "ServerReady",
            ServerReadyRequest.getDefaultInstance(),
            ServerReadyResponse.getDefaultInstance());
    ServerMetadataResponse meta =
        grpc.call(
            "ServerMetadata",
            ServerMetadataRequest.getDefaultInstance(),
            ServerMetadataResponse.getDefaultInstance());
    JsonObject httpMeta =
        http.get(gateway.port(), "127.0.0.1", "/v2").send().await().bodyAsJsonObject();
    assertTrue(live.getLive());
    assertTrue(ready.getReady());
    assertEquals(httpMeta.getString("name"), meta.getName());
    assertEquals(httpMeta.getString("version"), meta.getVersion());
    assertEquals(httpMeta.getJsonArray("extensions").getList(), meta.getExtensionsList());
  }

  @Test
  void model_ready_and_metadata_match_http() {
    ModelReadyResponse ready =
        grpc.call(
            "ModelReady",
            ModelReadyRequest.newBuilder().setName("ctr").build(),
            ModelReadyResponse.getDefaultInstance());
    ModelReadyResponse unknown =
        grpc.call(
            "ModelReady",
            ModelReadyRequest.newBuilder().setName("nope").build(),
            ModelReadyResponse.getDefaultInstance());
    ModelMetadataResponse meta =
        grpc.call(
            "ModelMetadata",
            ModelMetadataRequest.newBuilder().setName("ctr").build(),
            ModelMetadataResponse.getDefaultInstance());
    JsonObject httpMeta =
        http.get(gateway.port(), "127.0.0.1", "/v2/models/ctr").send().await().bodyAsJsonObject();
    assertTrue(ready.getReady());
    assertFalse(unknown.getReady());
    assertEquals(httpMeta.getJsonArray("versions").getList(), meta.getVersionsList());
    assertEquals(httpMeta.getString("platform"), meta.getPlatform());
    JsonObject dense = httpMeta.getJsonArray("inputs").getJsonObject(0);
    assertEquals(dense.getString("name"), meta.getInputs(0).getName());
    assertEquals(dense.getString("datatype"), meta.getInputs(0).getDatatype());
    assertEquals(List.of(-1L, 3L), meta.getInputs(0).getShapeList());
    assertEquals("prob", meta.getOutputs(0).getName());
  }

  @Test
  void model_infer_with_typed_or_raw_contents_scores_like_http() {
    ModelInferResponse typed =
        grpc.call(
            "ModelInfer", typedRequest("ctr", "req-1"), ModelInferResponse.getDefaultInstance());
    ModelInferResponse raw =
        grpc.call("ModelInfer", rawRequest("ctr"), ModelInferResponse.getDefaultInstance());
    float[] expected = httpProbs();
    assertArrayEquals(expected, probs(typed));
    assertArrayEquals(expected, probs(raw));
    assertEquals("req-1", typed.getId());
    assertFalse(raw.getId().isEmpty(), "a generated response id for feedback");
    assertEquals(List.of(3L, 1L), typed.getOutputs(0).getShapeList());
    assertEquals("1", typed.getParametersOrThrow("model_version").getStringParam());
    String metrics =
        http.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    assertTrue(
        metrics.contains(
            "distill_requests_total{model=\"ctr\",outcome=\"ok\",transport=\"grpc\",version=\"1\"}"),
        metrics);
  }

  @Test
  void a_client_that_compresses_its_requests_with_gzip_is_served_the_same() {
    ModelInferResponse plain =
        grpc.call(
            "ModelInfer", typedRequest("ctr", "req-z"), ModelInferResponse.getDefaultInstance());
    ModelInferResponse gzip =
        grpc.call(
            "ModelInfer",
            typedRequest("ctr", "req-z"),
            ModelInferResponse.getDefaultInstance(),
            null,
            "gzip");
    ModelMetadataResponse meta =
        grpc.call(
            "ModelMetadata",
            ModelMetadataRequest.newBuilder().setName("ctr").build(),
            ModelMetadataResponse.getDefaultInstance(),
            null,
            "gzip");
    assertArrayEquals(probs(plain), probs(gzip));
    assertArrayEquals(httpProbs(), probs(gzip));
    assertEquals("req-z", gzip.getId());
    assertEquals("ctr", meta.getName());
    assertEquals("prob", meta.getOutputs(0).getName());
  }

  @Test
  void bad_requests_get_the_status_http_would_give() {
    OipGrpcClient.Failure unknown = grpc.fail("ModelInfer", typedRequest("nope", ""));
    ModelInferRequest shortRaw =
        rawRequest("ctr").toBuilder()
            .setRawInputContents(0, ByteString.copyFrom(new byte[5]))
            .build();
    OipGrpcClient.Failure size = grpc.fail("ModelInfer", shortRaw);
    ModelInferRequest missing = typedRequest("ctr", "").toBuilder().removeInputs(1).build();
    OipGrpcClient.Failure missingInput = grpc.fail("ModelInfer", missing);
    OipGrpcClient.Failure malformed =
        grpc.failRaw("ModelInfer", Buffer.buffer(new byte[] {(byte) 0xff, 1, 2}));
    assertEquals(GrpcStatus.NOT_FOUND, unknown.status());
    assertTrue(unknown.message().contains("'nope' is not loaded"), unknown.message());
    assertEquals(GrpcStatus.INVALID_ARGUMENT, size.status());
    assertTrue(
        size.message().contains("raw_input_contents has 5 bytes, expected 36"), size.message());
    assertEquals(GrpcStatus.INVALID_ARGUMENT, missingInput.status());
    assertTrue(
        missingInput.message().contains("missing input(s) [sparse]"), missingInput.message());
    assertEquals(GrpcStatus.INVALID_ARGUMENT, malformed.status());
    assertTrue(malformed.message().contains("malformed ModelInferRequest"), malformed.message());
  }

  @Test
  void a_model_infer_call_without_a_message_is_an_invalid_argument() {
    OipGrpcClient.Failure empty = grpc.failWithoutMessage("ModelInfer");
    assertEquals(GrpcStatus.INVALID_ARGUMENT, empty.status());
    assertEquals(
        "ModelInfer needs one ModelInferRequest message; the call ended without one",
        empty.message());
  }

  @Test
  void requests_that_do_not_decode_are_counted_as_bad_requests_of_grpc() {
    String unknown =
        "distill_requests_total{model=\"_unknown\",outcome=\"bad_request\",transport=\"grpc\","
            + "version=\"\"}";
    String ctr =
        "distill_requests_total{model=\"ctr\",outcome=\"bad_request\",transport=\"grpc\","
            + "version=\"1\"}";
    double unknownBefore = counter(unknown);
    double ctrBefore = counter(ctr);
    Buffer malformed = Buffer.buffer(new byte[] {(byte) 0xff, 1, 2});
    ModelInferRequest missing = typedRequest("ctr", "").toBuilder().removeInputs(1).build();
    grpc.failRaw("ModelInfer", malformed);
    grpc.failWithoutMessage("ModelInfer");
    grpc.fail("ModelInfer", missing);
    grpc.stream(List.of(malformed, Buffer.buffer(missing.toByteArray())));
    assertEquals(3, counter(unknown) - unknownBefore, "unparsable messages and the empty call");
    assertEquals(2, counter(ctr) - ctrBefore, "messages for ctr whose tensors do not decode");
  }

  double counter(String series) {
    String metrics =
        http.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    return 0;
  }

  @Test
  void stream_infer_answers_every_message_in_order_and_survives_bad_ones() {
    List<Buffer> messages =
        List.of(
            Buffer.buffer(typedRequest("ctr", "a").toByteArray()),
            Buffer.buffer(new byte[] {(byte) 0xff, 1, 2}),
            Buffer.buffer(typedRequest("nope", "c").toByteArray()),
            Buffer.buffer(rawRequest("ctr").toBuilder().setId("d").build().toByteArray()));
    List<ModelStreamInferResponse> responses = grpc.stream(messages);
    float[] expected = httpProbs();
    assertEquals(4, responses.size());
    assertEquals("", responses.get(0).getErrorMessage());
    assertEquals("a", responses.get(0).getInferResponse().getId());
    assertArrayEquals(expected, probs(responses.get(0).getInferResponse()));
    assertTrue(
        responses.get(1).getErrorMessage().startsWith("message 1: malformed ModelInferRequest"),
        responses.get(1).getErrorMessage());
    assertTrue(
        responses.get(2).getErrorMessage().startsWith("message 2: model 'nope' is not loaded"),
        responses.get(2).getErrorMessage());
    assertEquals("c", responses.get(2).getInferResponse().getId());
    assertEquals("", responses.get(3).getErrorMessage());
    assertEquals("d", responses.get(3).getInferResponse().getId());
    assertArrayEquals(expected, probs(responses.get(3).getInferResponse()));
  }

  @Test
  void repository_index_lists_models_and_unload_needs_the_admin_token() {
    RepositoryIndexResponse index =
        grpc.call(
            "RepositoryIndex",
            RepositoryIndexRequest.getDefaultInstance(),
            RepositoryIndexResponse.getDefaultInstance());
    RepositoryModelUnloadRequest unload =
        RepositoryModelUnloadRequest.newBuilder().setModelName("spare").build();
    OipGrpcClient.Failure anonymous = grpc.fail("RepositoryModelUnload", unload);
    RepositoryModelUnloadResponse ok =
        grpc.call(
            "RepositoryModelUnload",
            unload,
            RepositoryModelUnloadResponse.getDefaultInstance(),
            "Bearer test-token");
    assertTrue(
        index.getModelsList().stream()
            .anyMatch(m -> m.getName().equals("ctr") && m.getState().equals("READY")),
        index.toString());
    assertEquals(GrpcStatus.UNAUTHENTICATED, anonymous.status());
    assertEquals(RepositoryModelUnloadResponse.getDefaultInstance(), ok);
    assertFalse(gateway.models().isLoaded("spare", null));
  }

  @Test
  void a_stock_python_grpcio_client_with_stubs_from_the_proto_scores_and_streams()
      throws Exception {
    String python = pythonWithGrpc();
    Assumptions.assumeTrue(
        python != null,
        "skipped: no python3 with grpcio and grpc_tools (Debian: python3-grpcio python3-grpc-tools)");
    Path proto = Path.of("src/main/proto").toAbsolutePath();
    Path script = Path.of("src/test/python/oip_grpc_client.py").toAbsolutePath();
    Process p =
        new ProcessBuilder(
                python,
                script.toString(),
                proto.toString(),
                "127.0.0.1:" + gateway.grpcPort(),
                "ctr")
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), output);
    JsonObject seen = new JsonObject(output.substring(output.lastIndexOf('\n') + 1));
    float[] expected =
        probs(
            grpc.call(
                "ModelInfer", rawRequest("ctr", 0.5f, 1), ModelInferResponse.getDefaultInstance()));
    assertTrue(seen.getBoolean("live"));
    assertEquals("py-1", seen.getString("id"));
    assertEquals(expected[0], seen.getJsonArray("probs").getFloat(0), 1e-6);
    assertEquals(List.of("s1", "s2", "s3"), seen.getJsonArray("stream_ids").getList());
    assertEquals("", seen.getJsonArray("stream_errors").getString(0));
    assertTrue(seen.getJsonArray("stream_errors").getString(1).contains("'nope' is not loaded"));
    assertEquals("", seen.getJsonArray("stream_errors").getString(2));
  }

  static ModelInferRequest rawRequest(String model, float dense, long sparse) {
    ByteBuffer d = ByteBuffer.allocate(2 * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) d.putFloat(dense);
    ByteBuffer s = ByteBuffer.allocate(2 * 2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) s.putLong(sparse);
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("dense")
                .setDatatype("FP32")
                .addShape(2)
                .addShape(3))
        .addInputs(
            InferInputTensor.newBuilder()
                .setName("sparse")
                .setDatatype("INT64")
                .addShape(2)
                .addShape(2))
        .addRawInputContents(ByteString.copyFrom(d.flip()))
        .addRawInputContents(ByteString.copyFrom(s.flip()))
        .build();
  }

  static String pythonWithGrpc() {
    for (String candidate : List.of("/usr/bin/python3", "python3")) {
      try {
        Process p =
            new ProcessBuilder(candidate, "-c", "import grpc, grpc_tools")
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() == 0) {
          return candidate;
        }
      } catch (Exception e) {
        // try the next one
      }
    }
    return null;
  }
}
