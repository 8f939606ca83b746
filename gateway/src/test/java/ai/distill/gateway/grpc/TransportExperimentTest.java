package ai.distill.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.grpc.proto.InferParameter;
import ai.distill.gateway.grpc.proto.InferTensorContents;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An experiment behaves the same whichever transport carries the request: sticky variants from
 * {@code user_id}, response ids that click feedback accepts, metrics per transport.
 */
class TransportExperimentTest {

  @TempDir Path dir;
  Vertx vertx;
  Gateway gateway;
  ExperimentRoutes experiments;
  CaptureRoutes capture;
  WebClient web;
  OipGrpcClient grpc;

  @BeforeEach
  void start() {
    vertx = TestGateways.strictVertx();
    ModelStore store = ModelStore.open(dir);
    int[] hidden = {8};
    store.publish(
        PublishRequest.fromBytes(
            "ctr", TinyModels.ctrModel(4, 3, 10, 2, hidden, 1).toBytes(), Role.TEACHER));
    store.publish(
        PublishRequest.fromBytes(
            "ctr-int8", TinyModels.ctrModel(4, 3, 10, 2, hidden, 2).toBytes(), Role.STUDENT));
    gateway = Gateway.start(vertx, TestGateways.config(dir).grpcPort(-1).build()).await();
    FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
    capture = CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
    experiments =
        ExperimentRoutes.install(
                gateway, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
            .await();
    web = TestGateways.client(vertx);
    grpc = new OipGrpcClient(vertx, gateway.grpcPort());
    JsonObject def =
        new JsonObject()
            .put("name", "ab")
            .put("teacher", "ctr")
            .put(
                "variants",
                new JsonArray()
                    .add(new JsonObject().put("model", "ctr").put("weight", 50))
                    .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)));
    int status =
        web.post(gateway.port(), "127.0.0.1", "/admin/v1/experiments")
            .putHeader("Authorization", "Bearer test-token")
            .sendJsonObject(def)
            .await()
            .statusCode();
    assertEquals(201, status);
  }

  @AfterEach
  void stop() {
    grpc.close();
    experiments.close().await();
    capture.close().await();
    gateway.close().await();
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  static final float[] DENSE = {0.1f, 0.2f, 0.3f, 0.4f};
  static final long[] SPARSE = {1, 2, 3};

  JsonObject httpInfer(String user) {
    JsonArray d = new JsonArray();
    for (float f : DENSE) d.add(f);
    JsonArray s = new JsonArray();
    for (long l : SPARSE) s.add(l);
    JsonObject body =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "dense")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(1).add(4))
                            .put("data", d))
                    .add(
                        new JsonObject()
                            .put("name", "sparse")
                            .put("datatype", "INT64")
                            .put("shape", new JsonArray().add(1).add(3))
                            .put("data", s)))
            .put("parameters", new JsonObject().put("user_id", user));
    return web.post(gateway.port(), "127.0.0.1", "/v2/models/ab/infer")
        .sendJsonObject(body)
        .await()
        .bodyAsJsonObject();
  }

  ModelInferResponse grpcInfer(String user) {
    InferTensorContents.Builder d = InferTensorContents.newBuilder();
    for (float f : DENSE) d.addFp32Contents(f);
    InferTensorContents.Builder s = InferTensorContents.newBuilder();
    for (long l : SPARSE) s.addInt64Contents(l);
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("ab")
            .putParameters("user_id", InferParameter.newBuilder().setStringParam(user).build())
            .addInputs(
                InferInputTensor.newBuilder()
                    .setName("dense")
                    .setDatatype("FP32")
                    .addShape(1)
                    .addShape(4)
                    .setContents(d))
            .addInputs(
                InferInputTensor.newBuilder()
                    .setName("sparse")
                    .setDatatype("INT64")
                    .addShape(1)
                    .addShape(3)
                    .setContents(s))
            .build();
    return grpc.call("ModelInfer", request, ModelInferResponse.getDefaultInstance());
  }

  int feedback(String id) {
    return web.post(gateway.port(), "127.0.0.1", "/v1/feedback")
        .sendJsonObject(new JsonObject().put("id", id).put("clicks", new JsonArray().add(1)))
        .await()
        .statusCode();
  }

  @Test
  void a_user_gets_the_same_variant_and_feedback_ids_over_http_grpc_and_the_stream() {
    for (String user : List.of("u1", "u2", "u3", "u4")) {
      JsonObject http = httpInfer(user);
      String variant = http.getJsonObject("parameters").getString("variant");
      ModelInferResponse viaGrpc = grpcInfer(user);
      String row =
          "{\"inputs\":{\"dense\":[0.1,0.2,0.3,0.4],\"sparse\":[1,2,3]},\"user_id\":\""
              + user
              + "\"}\n";
      String line =
          web.post(gateway.port(), "127.0.0.1", "/v1/models/ab/stream")
              .sendBuffer(Buffer.buffer(row))
              .await()
              .bodyAsString()
              .trim();
      JsonObject viaStream = new JsonObject(line);
      assertEquals(variant, viaGrpc.getParametersOrThrow("variant").getStringParam(), user);
      assertEquals(variant, viaStream.getString("variant"), user);
      assertEquals(
          http.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getFloat(0),
          viaStream.getJsonObject("outputs").getJsonArray("prob").getFloat(0),
          1e-6);
      assertFalse(viaGrpc.getId().isEmpty());
      assertEquals(200, feedback(viaGrpc.getId()), "feedback for the gRPC response id");
      assertEquals(200, feedback(viaStream.getString("id")), "feedback for the stream row's id");
    }
    String metrics = web.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    assertTrue(metrics.contains("transport=\"grpc\""), metrics);
    assertTrue(metrics.contains("transport=\"stream\""), metrics);
    assertTrue(metrics.contains("transport=\"http\""), metrics);
  }
}
