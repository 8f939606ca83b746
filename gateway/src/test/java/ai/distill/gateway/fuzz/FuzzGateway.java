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
import io.vertx.core.http.HttpMethod;
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
 * limit, gRPC on. It sends HTTP requests over two raw keep-alive connections ({@link RawHttp}: one
 * for hostile requests, one for correct ones) and gRPC calls at the wire ({@link GrpcWire}), counts
 * answers by status, and checks interleaved correct requests (JSON, binary, through the experiment,
 * feedback, gRPC) against outputs computed in a fresh ORT session. Thread-safe enough for jqwik's
 * sequential tries.
 */
final class FuzzGateway {

  static final String TOKEN = "test-token";
  static final int MAX_BODY_BYTES = 256 * 1024;

  /** Models the fuzz must never unload or load by accident. */
  static final Set<String> RESERVED = Set.of("ctr", "ctr-b", "ab");

  private static FuzzGateway instance;

  final Vertx vertx;
  final Gateway gateway;
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
                    .grpcPort(-1)
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
    grpc = new GrpcWire(vertx, gateway.grpcPort());
    baselineHeap = usedHeapAfterGc();
  }

  final GrpcWire grpc;

  /** A gRPC call (body already framed), counted like the HTTP requests. */
  GrpcWire.Call grpc(String method, Buffer body) {
    return grpc(method, body, Map.of("content-type", "application/grpc", "te", "trailers"));
  }

  // No resend: a call without an answer within GrpcWire.STALL_SECONDS fails its property.
  GrpcWire.Call grpc(String method, Buffer body, Map<String, String> headers) {
    GrpcWire.Call c = grpc.call(method, body, headers);
    sent.incrementAndGet();
    grpcCalls.incrementAndGet();
    synchronized (grpcStatuses) {
      grpcStatuses.computeIfAbsent(c.status(), s -> new AtomicLong()).incrementAndGet();
    }
    if (c.problem() != null) {
      grpcFailures.incrementAndGet();
      synchronized (stalled) {
        if (stalled.size() < 10) {
          stalled.add("gRPC " + method + " (" + body.length() + " bytes): " + c.problem());
        }
      }
    }
    return c;
  }

  final Map<Integer, AtomicLong> grpcStatuses = new TreeMap<>();
  final AtomicLong grpcFailures = new AtomicLong();
  final AtomicLong grpcCalls = new AtomicLong();

  /** Correct gRPC requests (typed and raw contents) are answered correctly. */
  void checkGrpcStillCorrect() {
    for (boolean raw : new boolean[] {false, true}) {
      GrpcWire.Call c =
          grpc("ModelInfer", GrpcWire.frame(HostileGrpc.valid("ctr", raw).toByteArray()));
      assertEquals(0, c.status(), "a correct gRPC request: " + c);
      try {
        assertGrpcScores(
            ai.distill.gateway.grpc.proto.ModelInferResponse.parseFrom(c.messages().get(0)));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
      correct.incrementAndGet();
    }
  }

  /** The two CTR rows' scores in a gRPC response. */
  void assertGrpcScores(ai.distill.gateway.grpc.proto.ModelInferResponse r) {
    float[] got = new float[expected.length];
    if (r.getRawOutputContentsCount() > 0) {
      java.nio.ByteBuffer b =
          r.getRawOutputContents(0).asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < got.length; i++) {
        got[i] = b.getFloat();
      }
    } else {
      for (int i = 0; i < got.length; i++) {
        got[i] = r.getOutputs(0).getContents().getFp32Contents(i);
      }
    }
    for (int i = 0; i < got.length; i++) {
      assertEquals(expected[i], got[i], 1e-6f, "row " + i + " of " + r);
    }
  }

  /** One CTR row's score, as a stream answered it. */
  void assertRowScore(int row, float score) {
    assertEquals(expected[row], score, 1e-6f, "row " + row);
  }

  /** An answer: status, headers and body. */
  record Answer(int status, MultiMap headers, Buffer body) {
    @Override
    public String toString() {
      String b = body == null ? "" : body.toString();
      return status + " " + (b.length() > 300 ? b.substring(0, 300) + "..." : b);
    }
  }

  /** How long a keep-alive connection may take to answer before the request counts as a stall. */
  static final int STALL_MILLIS = 10_000;

  /** Connections idle this long are not reused (the gateway's idle timeout is 60 s). */
  private static final long REOPEN_AFTER_IDLE_NANOS = 20_000_000_000L;

  private RawHttp correctConnection;
  private RawHttp hostileConnection;
  private long correctUsed;
  private long hostileUsed;

  /**
   * Sends one (correct) request on a keep-alive connection and waits for its answer; status 0 when
   * none came within {@link #STALL_MILLIS} (a stall) or the server closed the connection first.
   */
  synchronized Answer send(
      HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    if (correctConnection != null && System.nanoTime() - correctUsed > REOPEN_AFTER_IDLE_NANOS) {
      correctConnection.close(); // the server's idle timeout may be closing it
      correctConnection = null;
    }
    correctUsed = System.nanoTime();
    RawHttp c = correctConnection != null ? correctConnection : open();
    correctConnection = c;
    Answer a = exchange(c, method, uri, headers, body);
    if (a.status() == 0 || "close".equalsIgnoreCase(a.headers().get("Connection"))) {
      c.close();
      correctConnection = null;
    }
    return count(a, method, uri);
  }

  /**
   * Sends a hostile request on the hostile keep-alive connection, the same connection for request
   * after request until the server closes it: what one hostile request leaves behind on a
   * connection is what the next one meets.
   */
  synchronized Answer sendHostile(
      HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    hostile.incrementAndGet();
    if (hostileConnection != null && System.nanoTime() - hostileUsed > REOPEN_AFTER_IDLE_NANOS) {
      hostileConnection.close(); // the server's idle timeout may be closing it
      hostileConnection = null;
    }
    hostileUsed = System.nanoTime();
    RawHttp c = hostileConnection != null ? hostileConnection : open();
    hostileConnection = c;
    Answer a = exchange(c, method, uri, headers, body);
    if (a.status() == 0 || "close".equalsIgnoreCase(a.headers().get("Connection"))) {
      c.close();
      hostileConnection = null;
    } else {
      keptAlive.incrementAndGet();
    }
    return count(a, method, uri);
  }

  private RawHttp open() {
    try {
      return new RawHttp(gateway.port(), STALL_MILLIS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Answer exchange(
      RawHttp c, HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
    byte[] request =
        RawHttp.request(method.name(), uri, headers, body == null ? null : body.getBytes());
    Thread writer = null;
    try {
      if (request.length <= 64 * 1024) {
        c.write(request);
      } else {
        // The server may answer (and close) before it read everything: read while writing.
        writer =
            new Thread(
                () -> {
                  try {
                    c.write(request);
                  } catch (IOException e) {
                    // closed by the server while we were still sending: its answer is read
                  }
                });
        writer.start();
      }
    } catch (IOException e) {
      // the answer (or the close) is read below
    }
    RawHttp.Reply r = c.read();
    if (writer != null) {
      c.close(); // unblocks a writer the server stopped reading from
      try {
        writer.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    r.headers().forEach(h::add);
    if (r.status() == 0) {
      if ("timed out".equals(r.problem())) {
        stalls.incrementAndGet();
        synchronized (stalled) {
          if (stalled.size() < 5) {
            stalled.add(method + " " + (uri.length() > 80 ? uri.substring(0, 80) : uri));
          }
        }
      }
      return new Answer(0, h, Buffer.buffer("no answer: " + r.problem()));
    }
    if (writer != null) {
      h.set("Connection", "close"); // this connection was closed above
    }
    return new Answer(r.status(), h, Buffer.buffer(r.body()));
  }

  private Answer count(Answer a, HttpMethod method, String uri) {
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
  final AtomicLong keptAlive = new AtomicLong();
  final List<String> stalled = new java.util.ArrayList<>();

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
        + ", hostile requests answered with the connection kept open for the next one: "
        + keptAlive.get()
        + ", stalls (no answer within "
        + STALL_MILLIS / 1000
        + " s): "
        + stalls.get()
        + " "
        + stalled
        + ", gRPC statuses: "
        + grpcStatuses
        + ", gRPC calls: "
        + grpcCalls.get()
        + " on "
        + grpc.connections()
        + " HTTP/2 connection(s)"
        + ", gRPC calls without an answer within "
        + GrpcWire.STALL_SECONDS
        + " s (never resent): "
        + grpcFailures.get()
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
