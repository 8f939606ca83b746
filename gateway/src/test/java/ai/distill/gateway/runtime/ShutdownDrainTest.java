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
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway.close() while a batch is inside ORT (held there by the runner's test hook): the session
 * closes only after the batch returned, in-flight requests get their answers, and readiness turns
 * 503 while the server still listens.
 */
class ShutdownDrainTest {

  static final OnnxModel MODEL = TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 1);

  @TempDir Path dir;
  Vertx vertx;
  WebClient client;
  Gateway gateway;
  final AtomicBoolean armed = new AtomicBoolean();
  final CountDownLatch inOrt = new CountDownLatch(1);
  final CountDownLatch letGo = new CountDownLatch(1);

  @BeforeEach
  void setUp() {
    vertx = TestGateways.strictVertx();
    client = TestGateways.client(vertx);
    TestGateways.publish(ModelStore.open(dir.resolve("store")), "ctr", MODEL);
    // Blocks the first armed batch right before OrtSession.run, inputs allocated.
    OnnxBatchRunner.beforeRun =
        model -> {
          if (armed.compareAndSet(true, false)) {
            inOrt.countDown();
            try {
              letGo.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
  }

  @AfterEach
  void tearDown() throws Exception {
    letGo.countDown();
    OnnxBatchRunner.beforeRun = null;
    if (gateway != null) {
      gateway.close().await(60, TimeUnit.SECONDS);
    }
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
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
    LoadedModel model = gateway.models().find("ctr", 1);
    armed.set(true);
    Future<HttpResponse<Buffer>> inFlight =
        client.post(port, "127.0.0.1", "/v2/models/ctr/infer").sendJsonObject(request("in-flight"));
    assertTrue(inOrt.await(30, TimeUnit.SECONDS), "the batch never reached ORT");

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
    assertFalse(closed.isComplete(), "close() completed while a batch was running");
    assertFalse(model.sessionClosed(), "the session was closed while a batch was running");

    letGo.countDown();
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
                TestGateways.config(dir.resolve("store")).drainTimeout(Duration.ZERO).build())
            .await();
    ModelRegistry models = gateway.models();
    LoadedModel model = models.acquire("ctr", null);
    InferRequest decoded =
        new InferRequestDecoder()
            .decode(
                request("direct").toBuffer(),
                null,
                model.signature().inputs(),
                model.signature().outputs());
    armed.set(true);
    Future<List<Tensor>> result = models.infer(model, decoded).map(t -> t.value());
    // The caller gives its reference back while its batch runs (as a failed or timed-out
    // caller would): the running batch alone must keep the session open.
    model.release();
    assertTrue(inOrt.await(30, TimeUnit.SECONDS), "the batch never reached ORT");

    Future<Void> closed = gateway.close();
    assertFalse(closed.isComplete(), "close() completed while a batch was running");
    assertFalse(model.sessionClosed(), "the session was closed while a batch was running");

    letGo.countDown();
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
