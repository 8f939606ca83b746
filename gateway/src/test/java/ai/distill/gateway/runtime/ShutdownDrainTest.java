package ai.distill.gateway.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.protocol.InferRequestDecoder;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import io.vertx.core.Future;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway.close() while a batch is inside ORT (a genuinely slow model, observed inside {@code
 * OrtSession.run} from its worker thread's stack): the session closes only after the batch
 * returned, in-flight requests get their answers, and readiness turns 503 while the server still
 * listens.
 */
class ShutdownDrainTest {

  static final OnnxModel MODEL = TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 1);

  // Loop steps of a 256x256 MatMul each: long enough (about a second on a laptop core) that the
  // checks made while the batch runs finish long before it does. Warm-up (zeros) runs no step.
  static final int SLOW_STEPS = 700;

  @TempDir Path dir;
  Vertx vertx;
  WebClient client;
  Gateway gateway;

  @BeforeEach
  void setUp() {
    vertx = TestGateways.strictVertx();
    client = TestGateways.client(vertx);
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", MODEL);
    TestGateways.publish(store, "slow", slowModel(256));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (gateway != null) {
      gateway.close().await(60, TimeUnit.SECONDS);
    }
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  /**
   * x [n, 1] -> y = x, after max(x) steps of v = tanh(v · w) on a {@code size}² matrix: the time a
   * batch spends inside ORT is set by the request, not by a hook in the runner.
   */
  static OnnxModel slowModel(int size) {
    float[] w = new float[size * size];
    float[] v = new float[size * size];
    for (int i = 0; i < w.length; i++) {
      w[i] = ((i * 31 % 17) - 8) / (8f * size);
      v[i] = ((i * 7 % 5) - 2) / 2f;
    }
    GraphProto body =
        GraphBuilder.create("step")
            .input("i", DataType.INT64)
            .input("cond_in", DataType.BOOL)
            .input("v_in", DataType.FLOAT, size, size)
            .matmul("v_in", "w", "vw")
            .op("Tanh", "vw", "v_out")
            .op("Identity", "cond_in", "cond_out")
            .output("cond_out", DataType.BOOL)
            .output("v_out", DataType.FLOAT, size, size)
            .toProto()
            .getGraph();
    AttributeProto bodyAttr =
        AttributeProto.newBuilder()
            .setName("body")
            .setType(AttributeProto.AttributeType.GRAPH)
            .setG(body)
            .build();
    return GraphBuilder.create("slow")
        .input("x", DataType.FLOAT, -1, 1)
        .initializer("w", w, size, size)
        .initializer("v0", v, size, size)
        .initializer("zero", new float[] {0f}, 1)
        .node("ReduceMax", List.of("x"), List.of("x_max"), GraphBuilder.attr("keepdims", 0L))
        .cast("x_max", "steps", DataType.INT64)
        .node("Loop", List.of("steps", "", "v0"), List.of("v_last"), bodyAttr)
        .node("ReduceMean", List.of("v_last"), List.of("mean"), GraphBuilder.attr("keepdims", 0L))
        .mul("mean", "zero", "nothing")
        .add("x", "nothing", "y")
        .output("y", DataType.FLOAT, -1, 1)
        .build();
  }

  static JsonObject slowRequest(String id, int steps) {
    return new JsonObject()
        .put("id", id)
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "x")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(1))
                        .put("data", new JsonArray().add(steps))));
  }

  /** The thread inside the native {@code OrtSession.run}, waiting for one (up to 30 s). */
  static Thread awaitThreadInsideOrt() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
        if (insideOrt(e.getValue())) {
          return e.getKey();
        }
      }
      assertTrue(System.nanoTime() < deadline, "the batch never reached ORT");
      Thread.sleep(1);
    }
  }

  static boolean insideOrt(StackTraceElement[] stack) {
    for (StackTraceElement frame : stack) {
      if (frame.isNativeMethod()
          && frame.getClassName().equals("ai.onnxruntime.OrtSession")
          && frame.getMethodName().equals("run")) {
        return true;
      }
    }
    return false;
  }

  static JsonObject request(String id) {
    return new JsonObject()
        .put("id", id)
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "dense")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(1).add(3))
                        .put("data", new JsonArray().add(1).add(2).add(3)))
                .add(
                    new JsonObject()
                        .put("name", "sparse")
                        .put("datatype", "INT64")
                        .put("shape", new JsonArray().add(1).add(2))
                        .put("data", new JsonArray().add(1).add(4))));
  }

  @Test
  void close_waits_for_the_batch_in_ort_answers_in_flight_requests_then_closes_the_session()
      throws Exception {
    // A grace long enough that the checks below run while the server still listens.
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .shutdownGrace(Duration.ofSeconds(3))
                    .build())
            .await();
    int port = gateway.port();
    LoadedModel model = gateway.models().find("slow", 1);
    Future<HttpResponse<Buffer>> inFlight =
        client
            .post(port, "127.0.0.1", "/v2/models/slow/infer")
            .sendJsonObject(slowRequest("in-flight", SLOW_STEPS));
    Thread ort = awaitThreadInsideOrt();

    Future<Void> closed = gateway.close();
    HttpResponse<Buffer> ready =
        client.get(port, "127.0.0.1", "/v2/health/ready").send().await(30, TimeUnit.SECONDS);
    assertEquals(503, ready.statusCode());
    HttpResponse<Buffer> late =
        client
            .post(port, "127.0.0.1", "/v2/models/ctr/infer")
            .sendJsonObject(request("late"))
            .await(30, TimeUnit.SECONDS);
    assertEquals(503, late.statusCode(), late.bodyAsString());
    assertTrue(
        late.bodyAsJsonObject().getString("error").contains("shutting down"), late.bodyAsString());
    // The batch is still inside ORT: nothing may be freed yet.
    boolean done = closed.isComplete();
    boolean sessionClosed = model.sessionClosed();
    assertTrue(insideOrt(ort.getStackTrace()), "the batch left ORT before the checks ended");
    assertFalse(done, "close() completed while a batch was running");
    assertFalse(sessionClosed, "the session was closed while a batch was running");

    HttpResponse<Buffer> answered = inFlight.await(30, TimeUnit.SECONDS);
    assertEquals(200, answered.statusCode(), answered.bodyAsString());
    assertEquals("in-flight", answered.bodyAsJsonObject().getString("id"));
    closed.await(60, TimeUnit.SECONDS);
    assertTrue(model.sessionClosed(), "the session should be closed after close()");
    gateway = null;
  }

  @Test
  void a_running_batch_keeps_the_session_open_even_when_no_request_holds_a_reference()
      throws Exception {
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .drainTimeout(Duration.ZERO)
                    .shutdownGrace(Duration.ZERO)
                    .build())
            .await();
    ModelRegistry models = gateway.models();
    LoadedModel model = models.acquire("slow", null);
    InferRequest decoded =
        new InferRequestDecoder()
            .decode(
                slowRequest("direct", SLOW_STEPS).toBuffer(),
                null,
                model.signature().inputs(),
                model.signature().outputs());
    Future<List<Tensor>> result = models.infer(model, decoded).map(t -> t.value());
    // The caller gives its reference back while its batch runs (as a failed or timed-out
    // caller would): the running batch alone must keep the session open.
    model.release();
    Thread ort = awaitThreadInsideOrt();

    Future<Void> closed = gateway.close();
    // No grace and no drain: close() goes straight to the sessions, yet until the batch leaves
    // ORT neither close() nor the session may finish (each sample read while it was inside).
    int samplesInsideOrt = 0;
    while (true) {
      boolean done = closed.isComplete();
      boolean sessionClosed = model.sessionClosed();
      if (!insideOrt(ort.getStackTrace())) {
        break;
      }
      assertFalse(done, "close() completed while a batch was running");
      assertFalse(sessionClosed, "the session was closed while a batch was running");
      samplesInsideOrt++;
      Thread.sleep(1);
    }
    assertTrue(samplesInsideOrt > 0, "the batch left ORT before close() could be observed");
    List<Tensor> outputs =
        result.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(1, outputs.size());
    closed.await(60, TimeUnit.SECONDS);
    assertTrue(model.sessionClosed(), "the session should be closed after close()");
    gateway = null;
  }

  @Test
  void a_full_queue_refuses_before_decoding_the_body() throws Exception {
    // Both ORT workers held, a 10 s queue delay and room for 4 rows: the first request's batch
    // waits for a thread, a 4-row request waits in the queue behind it (it is not due), so the
    // queue cannot take another row.
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .modelBatching("ctr", new BatchingConfig(256, 10_000_000, 4))
                    .build())
            .await();
    int port = gateway.port();
    CountDownLatch release = TestGateways.holdOrtWorkers(vertx, 2);
    Future<HttpResponse<Buffer>> running =
        client.post(port, "127.0.0.1", "/v2/models/ctr/infer").sendJsonObject(request("first"));
    LoadedModel busy = gateway.models().find("ctr", 1);
    long runDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (busy.batcher().runningBatches() < 1) {
      assertTrue(System.nanoTime() < runDeadline, "the first request never ran");
      Thread.sleep(10);
    }
    JsonObject four =
        new JsonObject()
            .put("id", "four")
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "dense")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(4).add(3))
                            .put(
                                "data", new JsonArray(List.of(1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3))))
                    .add(
                        new JsonObject()
                            .put("name", "sparse")
                            .put("datatype", "INT64")
                            .put("shape", new JsonArray().add(4).add(2))
                            .put("data", new JsonArray(List.of(1, 2, 1, 2, 1, 2, 1, 2)))));
    Future<HttpResponse<Buffer>> waiting =
        client.post(port, "127.0.0.1", "/v2/models/ctr/infer").sendJsonObject(four);
    LoadedModel model = gateway.models().find("ctr", 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (model.batcher().queuedRequests() < 1) {
      assertTrue(System.nanoTime() < deadline, "the request never queued");
      Thread.sleep(10);
    }
    // Not JSON at all: decoding it would answer 400; admission must refuse it first.
    HttpResponse<Buffer> garbage =
        client
            .post(port, "127.0.0.1", "/v2/models/ctr/infer")
            .putHeader("Content-Type", "application/json")
            .sendBuffer(Buffer.buffer("this is {not json"))
            .await(30, TimeUnit.SECONDS);
    assertEquals(429, garbage.statusCode(), garbage.bodyAsString());
    assertEquals("1", garbage.getHeader("Retry-After"));
    assertTrue(
        garbage.bodyAsJsonObject().getString("error").contains("full"), garbage.bodyAsString());
    HttpResponse<Buffer> valid =
        client
            .post(port, "127.0.0.1", "/v2/models/ctr/infer")
            .sendJsonObject(request("one"))
            .await(30, TimeUnit.SECONDS);
    assertEquals(429, valid.statusCode(), valid.bodyAsString());
    // Close does not wait for the queue delay: the queued request is answered.
    Future<Void> closed = gateway.close();
    release.countDown();
    assertEquals(200, running.await(30, TimeUnit.SECONDS).statusCode());
    assertEquals(200, waiting.await(30, TimeUnit.SECONDS).statusCode());
    closed.await(60, TimeUnit.SECONDS);
    gateway = null;
  }
}
