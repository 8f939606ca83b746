package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot swap, load failures, 429, experiment routing and graceful shutdown, over HTTP. */
class ModelLifecycleTest {

  static final OnnxModel V1 = TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 1);
  static final OnnxModel V2 = TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 2);

  @TempDir Path dir;
  Vertx vertx;
  WebClient client;
  ModelStore store;
  Gateway gateway;

  @BeforeEach
  void setUp() {
    vertx = TestGateways.strictVertx();
    client = TestGateways.client(vertx);
    store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", V1);
  }

  @AfterEach
  void tearDown() {
    if (gateway != null) {
      gateway.close().await();
    }
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  Future<HttpResponse<Buffer>> infer(String path, JsonObject body) {
    return client.post(gateway.port(), "127.0.0.1", path).sendJsonObject(body);
  }

  static JsonObject row(int i) {
    return CtrRequests.request("r" + i, new float[] {i % 7, 1, -1}, new long[] {i % 10, 3});
  }

  /** Requests dispatched to a batch so far (the batcher records each one's queue wait then). */
  static final String DISPATCHED = "distill_queue_wait_seconds_count{model=\"ctr\",version=\"1\"}";

  double metric(String line) {
    String text = client.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    for (String l : text.split("\n")) {
      if (l.startsWith(line + " ")) {
        return Double.parseDouble(l.substring(line.length() + 1).trim());
      }
    }
    return 0;
  }

  void awaitCondition(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void a_new_version_is_swapped_in_under_load_without_a_single_failed_request() throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
    List<Future<Void>> clients = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      int id = c;
      clients.add(Future.future(done -> loop(id, running, ok, failures, byVersion, done)));
    }
    awaitCondition("traffic on version 1", () -> ok.get() > 50);
    TestGateways.publish(store, "ctr", V2);
    awaitCondition(
        "traffic on version 2", () -> byVersion.getOrDefault("2", new AtomicInteger()).get() > 50);
    running.set(false);
    Future.all(clients).await(30, TimeUnit.SECONDS);
    assertEquals(List.of(), failures);
    assertTrue(byVersion.get("1").get() > 0);
    awaitCondition("version 1 closed", () -> gateway.models().find("ctr", 1) == null);
    assertEquals(
        List.of(2L), gateway.models().loaded("ctr").stream().map(m -> m.version()).toList());
    JsonObject out = infer("/v2/models/ctr/infer", row(3)).await().bodyAsJsonObject();
    assertEquals("2", out.getString("model_version"));
    assertEquals(1.0, metric("distill_loaded_versions{model=\"ctr\"}"));
  }

  private void loop(
      int client,
      AtomicBoolean running,
      AtomicInteger ok,
      List<String> failures,
      Map<String, AtomicInteger> byVersion,
      io.vertx.core.Promise<Void> done) {
    if (!running.get()) {
      done.complete();
      return;
    }
    infer("/v2/models/ctr/infer", row(client))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                failures.add(ar.cause().toString());
              } else if (ar.result().statusCode() != 200) {
                failures.add(ar.result().statusCode() + " " + ar.result().bodyAsString());
              } else {
                ok.incrementAndGet();
                byVersion
                    .computeIfAbsent(
                        ar.result().bodyAsJsonObject().getString("model_version"),
                        k -> new AtomicInteger())
                    .incrementAndGet();
              }
              loop(client, running, ok, failures, byVersion, done);
            });
  }

  @Test
  void versions_are_served_side_by_side_and_an_explicitly_loaded_one_stays_pinned()
      throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    TestGateways.publish(store, "ctr", V2);
    awaitCondition(
        "version 2 default",
        () ->
            Long.valueOf(2).equals(gateway.models().highestLoaded("ctr"))
                && gateway.models().find("ctr", 1) == null);
    HttpResponse<Buffer> load =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/ctr/load")
            .bearerTokenAuthentication("test-token")
            .sendJsonObject(new JsonObject().put("version", 1))
            .await();
    assertEquals(200, load.statusCode(), load.bodyAsString());
    JsonObject v1 = infer("/v2/models/ctr/versions/1/infer", row(4)).await().bodyAsJsonObject();
    JsonObject v2 = infer("/v2/models/ctr/infer", row(4)).await().bodyAsJsonObject();
    assertEquals("1", v1.getString("model_version"));
    assertEquals("2", v2.getString("model_version"));
    assertTrue(
        v1.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getFloat(0)
            != v2.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getFloat(0));
    assertEquals(
        "[\"1\",\"2\"]",
        client
            .get(gateway.port(), "127.0.0.1", "/v2/models/ctr")
            .send()
            .await()
            .bodyAsJsonObject()
            .getJsonArray("versions")
            .encode());
    TestGateways.publish(store, "ctr", TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 3));
    awaitCondition(
        "version 3 default, 2 retired, 1 pinned",
        () ->
            gateway.models().loaded("ctr").stream()
                .map(m -> m.version())
                .toList()
                .equals(List.of(1L, 3L)));
    assertEquals(2.0, metric("distill_loaded_versions{model=\"ctr\"}"));
  }

  @Test
  void a_version_with_a_checksum_mismatch_is_refused_and_the_old_one_keeps_serving()
      throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    // Build version 2 in another store, corrupt its file, then move the complete directory in.
    ModelStore scratch = ModelStore.open(dir.resolve("scratch"));
    TestGateways.publish(scratch, "ctr", V1);
    ModelVersion staged = TestGateways.publish(scratch, "ctr", V2);
    byte[] bytes = Files.readAllBytes(staged.modelFile());
    bytes[bytes.length / 2] ^= 0x5A;
    Files.write(staged.modelFile(), bytes);
    Files.move(staged.dir(), dir.resolve("store/models/ctr/2"), StandardCopyOption.ATOMIC_MOVE);
    awaitCondition("the load failure", () -> gateway.metrics().loadFailures("ctr") >= 1);
    assertTrue(gateway.models().failure("ctr", 2).orElseThrow().contains("sha256"));
    HttpResponse<Buffer> response = infer("/v2/models/ctr/infer", row(1)).await();
    assertEquals(200, response.statusCode());
    assertEquals("1", response.bodyAsJsonObject().getString("model_version"));
    assertEquals(1.0, metric("distill_model_load_failures_total{model=\"ctr\"}"));
  }

  @Test
  void a_version_that_is_not_a_valid_onnx_graph_is_refused_and_the_old_one_keeps_serving()
      throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    store.publish(PublishRequest.fromBytes("ctr", "not an onnx model".getBytes(), Role.TEACHER));
    awaitCondition("the load failure", () -> gateway.metrics().loadFailures("ctr") >= 1);
    HttpResponse<Buffer> response = infer("/v2/models/ctr/infer", row(1)).await();
    assertEquals(200, response.statusCode());
    assertEquals("1", response.bodyAsJsonObject().getString("model_version"));
    JsonObject index =
        new JsonObject()
            .put(
                "index",
                client
                    .post(gateway.port(), "127.0.0.1", "/v2/repository/index")
                    .send()
                    .await()
                    .bodyAsJsonArray());
    assertTrue(
        index.encode().contains("\"version\":\"2\",\"state\":\"UNAVAILABLE\""), index.encode());
    HttpResponse<Buffer> load =
        client
            .post(gateway.port(), "127.0.0.1", "/v2/repository/models/ctr/load")
            .bearerTokenAuthentication("test-token")
            .sendJsonObject(new JsonObject().put("version", 2))
            .await();
    assertEquals(400, load.statusCode(), load.bodyAsString());
    assertTrue(load.bodyAsJsonObject().getString("error").contains("ctr:2"), load.bodyAsString());
  }

  @Test
  void a_full_queue_answers_429_with_retry_after() throws Exception {
    // Both ORT workers held: the first request's batch waits for a thread; with a long queue
    // delay and a 4-row queue, the second request waits in the queue and the third finds it full.
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .modelBatching("ctr", new BatchingConfig(256, 10_000_000, 4))
                    .build())
            .await();
    java.util.concurrent.CountDownLatch release = TestGateways.holdOrtWorkers(vertx, 2);
    Future<HttpResponse<Buffer>> running = infer("/v2/models/ctr/infer", row(1));
    awaitCondition("a running batch", () -> metric(DISPATCHED) == 1.0);
    Future<HttpResponse<Buffer>> waiting =
        infer("/v2/models/ctr/infer", CtrRequests.request("w", new float[12], new long[8]));
    awaitCondition(
        "a queued request",
        () -> metric("distill_queue_depth{model=\"ctr\",version=\"1\"}") == 1.0);
    HttpResponse<Buffer> refused = infer("/v2/models/ctr/infer", row(1)).await();
    assertEquals(429, refused.statusCode(), refused.bodyAsString());
    assertEquals("1", refused.getHeader("Retry-After"));
    assertTrue(refused.bodyAsJsonObject().getString("error").contains("full"));
    release.countDown();
    assertEquals(200, running.await(30, TimeUnit.SECONDS).statusCode());
    assertEquals(200, waiting.await(30, TimeUnit.SECONDS).statusCode());
    assertEquals(
        1.0,
        metric(
            "distill_requests_total{model=\"ctr\",outcome=\"queue_full\",transport=\"http\",version=\"1\"}"));
  }

  @Test
  void a_target_resolver_routes_a_name_to_a_variant_and_observes_the_result() throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    List<InferResult> seen = new CopyOnWriteArrayList<>();
    gateway.addTargetResolver(
        (name, ctx) ->
            !name.equals("exp")
                ? Optional.empty()
                : Optional.of(
                    new InferTargetResolver.Route() {
                      @Override
                      public String signatureModel() {
                        return "ctr";
                      }

                      @Override
                      public Future<InferTargetResolver.Target> select(
                          ai.distill.gateway.tensor.InferRequest request) {
                        assertEquals("u42", request.parameters().get("user_id"));
                        return Future.succeededFuture(
                            new InferTargetResolver.Target("ctr", 1L, "ctr"));
                      }

                      @Override
                      public void completed(
                          ai.distill.gateway.tensor.InferRequest request,
                          InferTargetResolver.Target target,
                          InferResult result,
                          Throwable failure) {
                        seen.add(result);
                      }
                    }));
    JsonObject req = row(5).put("parameters", new JsonObject().put("user_id", "u42"));
    HttpResponse<Buffer> response = infer("/v2/models/exp/infer", req).await();
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertEquals("ctr", body.getJsonObject("parameters").getString("variant"));
    assertEquals("1", body.getJsonObject("parameters").getString("model_version"));
    awaitCondition("the observed result", () -> seen.size() == 1);
    assertEquals("r5", seen.get(0).id());
    assertEquals(1L, seen.get(0).version());
    assertEquals(404, infer("/v2/models/other/infer", row(5)).await().statusCode());
  }

  @Test
  void a_model_with_a_fixed_batch_dimension_is_served_one_request_per_run() throws Exception {
    TestGateways.publish(
        store,
        "fixed",
        ai.distill.optimizer.onnx.GraphBuilder.create("fixed")
            .input("x", ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT, 1, 4)
            .op("Sigmoid", "x", "y")
            .output("y", ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT, 1, 4)
            .build());
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .batching(new BatchingConfig(64, 20_000, 100))
                    .build())
            .await();
    JsonObject meta =
        client
            .get(gateway.port(), "127.0.0.1", "/v2/models/fixed")
            .send()
            .await()
            .bodyAsJsonObject();
    assertEquals(
        "[1,4]", meta.getJsonArray("inputs").getJsonObject(0).getJsonArray("shape").encode());
    List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      responses.add(
          infer(
              "/v2/models/fixed/infer",
              new JsonObject()
                  .put(
                      "inputs",
                      new io.vertx.core.json.JsonArray()
                          .add(
                              new JsonObject()
                                  .put("name", "x")
                                  .put("datatype", "FP32")
                                  .put("shape", new io.vertx.core.json.JsonArray().add(1).add(4))
                                  .put(
                                      "data",
                                      new io.vertx.core.json.JsonArray()
                                          .add(i)
                                          .add(0)
                                          .add(-i)
                                          .add(1))))));
    }
    Future.all(responses).await(30, TimeUnit.SECONDS);
    for (int i = 0; i < 6; i++) {
      HttpResponse<Buffer> r = responses.get(i).result();
      assertEquals(200, r.statusCode(), r.bodyAsString());
      double y0 =
          r.bodyAsJsonObject()
              .getJsonArray("outputs")
              .getJsonObject(0)
              .getJsonArray("data")
              .getDouble(0);
      assertEquals(1 / (1 + Math.exp(-i)), y0, 1e-6);
    }
    assertEquals(6.0, metric("distill_batch_rows_count{model=\"fixed\",version=\"1\"}"));
    HttpResponse<Buffer> twoRows =
        infer(
                "/v2/models/fixed/infer",
                new JsonObject()
                    .put(
                        "inputs",
                        new io.vertx.core.json.JsonArray()
                            .add(
                                new JsonObject()
                                    .put("name", "x")
                                    .put("datatype", "FP32")
                                    .put("shape", new io.vertx.core.json.JsonArray().add(2).add(4))
                                    .put(
                                        "data",
                                        new io.vertx.core.json.JsonArray()
                                            .add(1)
                                            .add(2)
                                            .add(3)
                                            .add(4)
                                            .add(5)
                                            .add(6)
                                            .add(7)
                                            .add(8)))))
            .await();
    assertEquals(400, twoRows.statusCode(), twoRows.bodyAsString());
  }

  @Test
  void a_large_json_request_is_decoded_off_the_event_loop_and_served() throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    int rows = 20_000;
    float[] dense = new float[rows * 3];
    long[] sparse = new long[rows * 2];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = (i % 17) / 7f;
    }
    for (int i = 0; i < sparse.length; i++) {
      sparse[i] = i % 10;
    }
    JsonObject request = CtrRequests.request("big", dense, sparse);
    assertTrue(request.toBuffer().length() > 512 * 1024);
    HttpResponse<Buffer> r = infer("/v2/models/ctr/infer", request).await();
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject prob = r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0);
    assertEquals("[" + rows + ",1]", prob.getJsonArray("shape").encode());
    JsonObject single =
        infer(
                "/v2/models/ctr/infer",
                CtrRequests.request(
                    "one",
                    new float[] {dense[3], dense[4], dense[5]},
                    new long[] {sparse[2], sparse[3]}))
            .await()
            .bodyAsJsonObject();
    assertEquals(
        single.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getFloat(0),
        prob.getJsonArray("data").getFloat(1),
        1e-6f);
  }

  @Test
  void a_request_with_zero_rows_is_answered_without_a_server_error() throws Exception {
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    HttpResponse<Buffer> r =
        infer("/v2/models/ctr/infer", CtrRequests.request("empty", new float[0], new long[0]))
            .await();
    assertTrue(
        r.statusCode() == 200 || r.statusCode() == 400, r.statusCode() + " " + r.bodyAsString());
    assertEquals(200, infer("/v2/models/ctr/infer", row(2)).await().statusCode());
  }

  @Test
  void close_finishes_queued_requests_then_refuses_new_connections() throws Exception {
    // Both ORT workers held and a long queue delay: the second request waits in the queue.
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .modelBatching("ctr", new BatchingConfig(256, 10_000_000, 100))
                    .build())
            .await();
    int port = gateway.port();
    java.util.concurrent.CountDownLatch release = TestGateways.holdOrtWorkers(vertx, 2);
    Future<HttpResponse<Buffer>> running = infer("/v2/models/ctr/infer", row(1));
    awaitCondition(
        "a running batch",
        () -> {
          try {
            return metric(DISPATCHED) == 1.0;
          } catch (RuntimeException notYetLoaded) {
            return false;
          }
        });
    Future<HttpResponse<Buffer>> queued = infer("/v2/models/ctr/infer", row(1));
    awaitCondition(
        "a queued request",
        () -> gateway.models().loaded("ctr").size() == 1 && metricQuietly() == 1.0);
    Future<Void> closed = gateway.close();
    assertFalse(gateway.ready());
    release.countDown();
    assertEquals(200, running.await(30, TimeUnit.SECONDS).statusCode());
    assertEquals(200, queued.await(30, TimeUnit.SECONDS).statusCode());
    closed.await(30, TimeUnit.SECONDS);
    gateway = null;
    Future<HttpResponse<Buffer>> after =
        client.get(port, "127.0.0.1", "/v2/health/live").timeout(5000).send();
    try {
      after.await(10, TimeUnit.SECONDS);
    } catch (Exception expected) {
      // connection refused
    }
    assertTrue(after.failed(), "the port should be closed after close()");
  }

  private double metricQuietly() {
    try {
      return metric("distill_queue_depth{model=\"ctr\",version=\"1\"}");
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
