package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.capture.CaptureRoutes;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.experiment.ExperimentRoutes;
import ai.distill.gateway.experiment.ExperimentService;
import ai.distill.gateway.feedback.FeedbackRoutes;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobRoutes;
import ai.distill.gateway.loop.LoopRoutes;
import ai.distill.gateway.protocol.InferRequestEncoder;
import ai.distill.gateway.protocol.InferResponseEncoder;
import ai.distill.gateway.runtime.ModelPolicy;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One gateway for the whole fuzz suite (started on first use, closed by a JVM shutdown hook): the
 * tiny CTR model as {@code ctr} and {@code ctr-b}, an experiment {@code ab} over both, a small body
 * limit. It sends requests over keep-alive connections, counts answers by status, and checks
 * interleaved correct requests (JSON, binary, through the experiment, feedback) against outputs
 * computed in a fresh ORT session. Thread-safe enough for jqwik's sequential tries.
 */
final class FuzzGateway {

  static final String TOKEN = "test-token";
  static final int MAX_BODY_BYTES = 256 * 1024;

  /** Models the fuzz must never unload or load by accident. */
  static final Set<String> RESERVED = Set.of("ctr", "ctr-b", "ab");

  private static FuzzGateway instance;

  final Vertx vertx;
  final Gateway gateway;
  final HttpClient client;
  final HttpClient hostileClient;
  final Path dir;
  final Map<Integer, AtomicLong> statuses = new TreeMap<>();
  final AtomicLong sent = new AtomicLong();
  final AtomicLong fiveXx = new AtomicLong();
  final AtomicLong correct = new AtomicLong();
  final AtomicLong hostile = new AtomicLong();
  final long baselineHeap;
  long maxHeapGrowth;

  private static final float[] DENSE = {0.5f, -1.25f, 2f, 1f, 0f, -0.5f};
  private static final long[] SPARSE = {1, 9, 0, 3};
  private final float[] expected;

  static synchronized FuzzGateway get() {
    if (instance == null) {
      instance = new FuzzGateway();
      Runtime.getRuntime().addShutdownHook(new Thread(instance::close));
    }
    return instance;
  }

  private FuzzGateway() {
    try {
      dir = Files.createTempDirectory("distill-fuzz");
      ModelStore store = ModelStore.open(dir.resolve("store"));
      TestGateways.publish(store, "ctr", CtrRequests.CTR);
      TestGateways.publish(store, "ctr-b", CtrRequests.CTR);
      expected = CtrRequests.ort(DENSE, SPARSE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .maxBodyBytes(MAX_BODY_BYTES)
                    .modelPolicy("ctr", ModelPolicy.DEFAULT.withProbabilityOutputs(Set.of("prob")))
                    .build())
            .await();
    FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
    CaptureRoutes capture =
        CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
    ExperimentRoutes.install(
            gateway, ExperimentService.Options.DEFAULT, feedback.service(), capture.service())
        .await();
    JobRoutes jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();
    LoopRoutes.install(gateway, jobs.service()).await();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(gateway.port())
                .setKeepAlive(true)
                .setMaxInitialLineLength(64 * 1024),
            new PoolOptions().setHttp1MaxSize(4));
    // Hostile requests go on connections of their own (see RELIABILITY.md: keep-alive stalls).
    hostileClient =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(gateway.port())
                .setKeepAlive(false)
                .setMaxInitialLineLength(64 * 1024),
            new PoolOptions().setHttp1MaxSize(4));
    Answer created =
        send(
            HttpMethod.POST,
            "/admin/v1/experiments",
            Map.of("Authorization", "Bearer " + TOKEN),
            new JsonObject(
                    "{\"name\": \"ab\", \"teacher\": \"ctr\", \"variants\": [{\"model\": \"ctr\","
                        + " \"weight\": 50}, {\"model\": \"ctr-b\", \"weight\": 50}]}")
                .toBuffer());
    assertTrue(created.status() / 100 == 2, "experiment ab: " + created);
    baselineHeap = usedHeapAfterGc();
  }

  /** An answer: status, headers and body. */
  record Answer(int status, MultiMap headers, Buffer body) {
    @Override
    public String toString() {
      String b = body == null ? "" : body.toString();
      return status + " " + (b.length() > 300 ? b.substring(0, 300) + "..." : b);
    }
  }

  /**
   * Sends one request and waits for its answer. An answer that does not come within {@link
   * #STALL_SECONDS} s on the pooled keep-alive connection is counted as a stall and the request is
   * sent once more on a new connection; a request that fails there too is status 0.
   */
  Answer send(HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    return send(client, method, uri, headers, body);
  }

  /** Sends a hostile request on a connection of its own. */
  Answer sendHostile(HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    hostile.incrementAndGet();
    return send(hostileClient, method, uri, headers, body);
  }

  private Answer send(
      HttpClient via, HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    Answer a = sendOn(via, method, uri, headers, body);
    if (a.status() == 0 && a.body().toString().contains("TimeoutException")) {
      stalls.incrementAndGet();
      synchronized (stalled) {
        if (stalled.size() < 5) {
          stalled.add(method + " " + uri + " after " + lastRequest);
        }
      }
      HttpClient fresh =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setDefaultHost("127.0.0.1")
                  .setDefaultPort(gateway.port())
                  .setKeepAlive(false));
      try {
        a = sendOn(fresh, method, uri, headers, body);
      } finally {
        fresh.close();
      }
    }
    lastRequest = method + " " + (uri.length() > 80 ? uri.substring(0, 80) : uri);
    sent.incrementAndGet();
    synchronized (statuses) {
      statuses.computeIfAbsent(a.status(), s -> new AtomicLong()).incrementAndGet();
    }
    if (a.status() >= 500) {
      fiveXx.incrementAndGet();
    }
    return a;
  }

  private volatile String lastRequest = "";
  final AtomicLong stalls = new AtomicLong();
  final List<String> stalled = new java.util.ArrayList<>();

  private static Answer sendOn(
      HttpClient client, HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(uri);
    headers.forEach(options::putHeader);
    try {
      return client
          .request(options)
          .compose(req -> body == null ? req.send() : req.send(body))
          .compose(
              (HttpClientResponse r) ->
                  r.body().map(b -> new Answer(r.statusCode(), r.headers(), b)))
          .await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      return new Answer(0, MultiMap.caseInsensitiveMultiMap(), Buffer.buffer(e.toString()));
    }
  }

  /**
   * Correct requests answer correctly: JSON and binary inference, inference through the experiment,
   * and click feedback on its response id; the heap stays bounded.
   */
  void checkStillCorrect() {
    JsonObject req = CtrRequests.request(null, DENSE, SPARSE);
    Answer json = send(HttpMethod.POST, "/v2/models/ctr/infer", Map.of(), req.toBuffer());
    assertScores(json);
    InferRequest binary =
        new InferRequest(
            null,
            List.of(
                Tensor.ofFloats("dense", new long[] {2, 3}, DENSE),
                Tensor.ofLongs("sparse", new long[] {2, 2}, SPARSE)),
            List.of(),
            false,
            Map.of());
    InferResponseEncoder.Encoded enc = new InferRequestEncoder().encode(binary, true);
    Answer bin =
        send(
            HttpMethod.POST,
            "/v2/models/ctr-b/infer",
            Map.of(
                "Inference-Header-Content-Length",
                Integer.toString(enc.inferenceHeaderContentLength()),
                "Content-Type",
                enc.contentType()),
            enc.body());
    assertScores(bin);
    JsonObject viaExperiment = req.copy().put("parameters", new JsonObject().put("user_id", "u7"));
    Answer ab = send(HttpMethod.POST, "/v2/models/ab/infer", Map.of(), viaExperiment.toBuffer());
    assertScores(ab);
    String id = ab.body().toJsonObject().getString("id");
    assertNotNull(id, ab.toString());
    Answer fb =
        send(
            HttpMethod.POST,
            "/v1/feedback",
            Map.of("Content-Type", "application/json"),
            new JsonObject().put("id", id).put("clicks", new JsonArray().add(1).add(0)).toBuffer());
    assertTrue(fb.status() / 100 == 2, "feedback: " + fb);
    correct.addAndGet(4);
    long growth = usedHeapAfterGcEvery(1000) - baselineHeap;
    maxHeapGrowth = Math.max(maxHeapGrowth, growth);
    assertTrue(growth < 384L << 20, "heap grew by " + (growth >> 20) + " MB during the fuzz");
  }

  private long lastGcAt = -1;

  private long usedHeapAfterGcEvery(long requests) {
    long n = sent.get();
    if (lastGcAt >= 0 && n - lastGcAt < requests) {
      return baselineHeap;
    }
    lastGcAt = n;
    return usedHeapAfterGc();
  }

  private static long usedHeapAfterGc() {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  private void assertScores(Answer a) {
    if (a.status() != 200) {
      throw new AssertionError("a correct request was not served: " + a);
    }
    String contentType = a.headers().get("Content-Type");
    JsonObject body;
    if (a.headers().contains("Inference-Header-Content-Length")) {
      int n = Integer.parseInt(a.headers().get("Inference-Header-Content-Length"));
      body = a.body().getBuffer(0, n).toJsonObject();
    } else {
      body = a.body().toJsonObject();
    }
    JsonArray data = body.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    assertEquals(expected.length, data.size(), String.valueOf(contentType));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], data.getFloat(i), 1e-6f, "row " + i);
    }
  }

  /** The figures of this run, for RELIABILITY.md. */
  String report() {
    return "hostile requests: "
        + hostile.get()
        + ", all requests sent: "
        + sent.get()
        + ", correct requests checked: "
        + correct.get()
        + ", 5xx: "
        + fiveXx.get()
        + ", statuses: "
        + statuses
        + ", keep-alive stalls (answered on a new connection): "
        + stalls.get()
        + " "
        + stalled
        + ", max heap growth after GC: "
        + (maxHeapGrowth >> 20)
        + " MB";
  }

  private void close() {
    try {
      System.err.println("[fuzz] " + report());
      Files.writeString(Path.of("target", "fuzz-report.txt"), report() + "\n");
    } catch (Exception e) {
      // best effort: the report is informational
    }
    try {
      gateway.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // shutting down the JVM anyway
    }
  }
}
