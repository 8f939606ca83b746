package ai.distill.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny OIP v2 server for tests: metadata for the models it knows (inputs {@code dense} FP32
 * [-1,13], {@code sparse} INT64 [-1,26]), canned inference answers, a Prometheus {@code /metrics}
 * with request/queue/compute histograms, a controllable stall (every request arriving inside the
 * stall is answered at its end, like a GC pause) and a concurrency limit answered with 429.
 */
public final class FakeOipServer implements AutoCloseable {
  private final Vertx vertx;
  private final Set<String> models;
  private HttpServer server;
  private volatile long stallFrom = Long.MAX_VALUE;
  private volatile long stallUntil = Long.MIN_VALUE;
  private volatile int maxInFlight = Integer.MAX_VALUE;
  private volatile String version = "1";
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong inferRequests = new AtomicLong();
  private final AtomicLong requestMicros = new AtomicLong();

  public FakeOipServer(Vertx vertx, String... models) {
    this.vertx = vertx;
    this.models = Set.of(models);
  }

  public FakeOipServer start() throws Exception {
    server =
        vertx
            .createHttpServer()
            .requestHandler(this::handle)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return this;
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * Every request arriving within [now + startIn, now + startIn + length) is answered at the
   * stall's end.
   */
  public void scheduleStall(Duration startIn, Duration length) {
    long from = System.nanoTime() + startIn.toNanos();
    stallUntil = from + length.toNanos();
    stallFrom = from;
  }

  /** Requests beyond {@code n} in flight get 429. */
  public void limitInFlight(int n) {
    maxInFlight = n;
  }

  public void version(String v) {
    version = v;
  }

  public long inferRequests() {
    return inferRequests.get();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (path.equals("/metrics")) {
      long n = inferRequests.get();
      String text =
          "# TYPE distill_request_duration_seconds histogram\n"
              + "distill_request_duration_seconds_sum{model=\"ctr\",version=\"1\"} "
              + requestMicros.get() / 1e6
              + "\n"
              + "distill_request_duration_seconds_count{model=\"ctr\",version=\"1\"} "
              + n
              + "\n"
              + "distill_queue_wait_seconds_sum{model=\"ctr\",version=\"1\"} "
              + n * 0.0005
              + "\n"
              + "distill_queue_wait_seconds_count{model=\"ctr\",version=\"1\"} "
              + n
              + "\n"
              + "distill_compute_seconds_sum{model=\"ctr\",version=\"1\"} "
              + n * 0.001
              + "\n"
              + "distill_compute_seconds_count{model=\"ctr\",version=\"1\"} "
              + n
              + "\n";
      req.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(text);
      return;
    }
    if (!path.startsWith("/v2/models/")) {
      req.response().setStatusCode(404).end("{\"error\":\"no route " + path + "\"}");
      return;
    }
    String[] parts = path.substring("/v2/models/".length()).split("/");
    String model = parts[0];
    if (!models.contains(model)) {
      req.response()
          .setStatusCode(404)
          .end(new JsonObject().put("error", "unknown model '" + model + "'").encode());
      return;
    }
    if (!path.endsWith("/infer")) {
      JsonObject meta =
          new JsonObject()
              .put("name", model)
              .put("versions", new JsonArray().add(version))
              .put("platform", "onnxruntime")
              .put(
                  "inputs",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("name", "dense")
                              .put("datatype", "FP32")
                              .put("shape", new JsonArray().add(-1).add(13)))
                      .add(
                          new JsonObject()
                              .put("name", "sparse")
                              .put("datatype", "INT64")
                              .put("shape", new JsonArray().add(-1).add(26))))
              .put(
                  "outputs",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("name", "prob")
                              .put("datatype", "FP32")
                              .put("shape", new JsonArray().add(-1).add(1))));
      req.response().putHeader("Content-Type", "application/json").end(meta.encode());
      return;
    }
    long arrived = System.nanoTime();
    req.body()
        .onSuccess(
            body -> {
              if (inFlight.incrementAndGet() > maxInFlight) {
                inFlight.decrementAndGet();
                req.response()
                    .setStatusCode(429)
                    .putHeader("Retry-After", "1")
                    .end("{\"error\":\"queue full\"}");
                return;
              }
              int rows = 1;
              try {
                rows =
                    body.toJsonObject()
                        .getJsonArray("inputs")
                        .getJsonObject(0)
                        .getJsonArray("shape")
                        .getInteger(0);
              } catch (RuntimeException e) {
                // binary body: answer with one row
              }
              JsonArray data = new JsonArray();
              for (int i = 0; i < rows; i++) {
                data.add(0.5);
              }
              String answer =
                  new JsonObject()
                      .put("model_name", model)
                      .put("model_version", version)
                      .put("id", "x")
                      .put(
                          "outputs",
                          new JsonArray()
                              .add(
                                  new JsonObject()
                                      .put("name", "prob")
                                      .put("datatype", "FP32")
                                      .put("shape", new JsonArray().add(rows).add(1))
                                      .put("data", data)))
                      .put(
                          "parameters",
                          new JsonObject().put("variant", model).put("model_version", version))
                      .encode();
              long holdNanos =
                  arrived >= stallFrom && arrived < stallUntil ? stallUntil - System.nanoTime() : 0;
              Runnable respond =
                  () -> {
                    inFlight.decrementAndGet();
                    inferRequests.incrementAndGet();
                    requestMicros.addAndGet((System.nanoTime() - arrived) / 1000);
                    req.response().putHeader("Content-Type", "application/json").end(answer);
                  };
              if (holdNanos > 1_000_000) {
                vertx.setTimer(holdNanos / 1_000_000, id -> respond.run());
              } else {
                respond.run();
              }
            });
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
