package ai.distill.gateway.testing;

import ai.distill.gateway.GatewayConfig;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Shared test plumbing: a strict Vert.x, stores with tiny models, gateways and clients. */
public final class TestGateways {

  /** Event loops may run at most this long per task in tests; longer = a blocking bug. */
  public static final long MAX_EVENT_LOOP_MILLIS = 250;

  private static final List<String> BLOCKED = new CopyOnWriteArrayList<>();
  // Held strongly: JUL keeps loggers weakly, and the handler must outlive this initialiser.
  private static final Logger CHECKER = Logger.getLogger("io.vertx.core.impl.BlockedThreadChecker");

  static {
    CHECKER.setUseParentHandlers(false);
    CHECKER.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            String message = record.getMessage();
            if (message != null
                && message.contains("has been blocked")
                && blamesOurCode(record.getThrown())) {
              System.err.println("BLOCKED EVENT LOOP: " + message + describe(record.getThrown()));
              BLOCKED.add(message + describe(record.getThrown()));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
  }

  private TestGateways() {}

  // Blocking primitives that must never run on an event loop.
  private static final List<String> BLOCKING_FRAMES =
      List.of(
          "ai.onnxruntime.OrtSession.run",
          "ai.onnxruntime.OrtSession.<init>",
          "ai.onnxruntime.OrtEnvironment.createSession",
          "java.lang.Thread.sleep",
          "java.lang.Object.wait",
          "java.util.concurrent.locks.LockSupport.park",
          "io.vertx.core.Future.await",
          "sun.nio.fs.",
          "java.io.FileInputStream.read",
          "java.io.FileOutputStream.write",
          "sun.nio.ch.FileChannelImpl.");

  // A block counts when our code is on the stack inside a blocking primitive. Slow but
  // non-blocking work (class loading, JIT, a machine shared by many builds) is only logged.
  static boolean blamesOurCode(Throwable stack) {
    if (stack == null) {
      return false;
    }
    boolean ours = false;
    boolean blocking = false;
    for (StackTraceElement e : stack.getStackTrace()) {
      String frame = e.getClassName() + "." + e.getMethodName();
      for (String b : BLOCKING_FRAMES) {
        if (frame.startsWith(b)) {
          blocking = true;
        }
      }
      if (e.getClassName().startsWith("ai.distill.") && !e.getClassName().endsWith("Test")) {
        ours = true;
      }
    }
    return ours && blocking;
  }

  private static String describe(Throwable stack) {
    StringBuilder b = new StringBuilder();
    for (StackTraceElement e : stack.getStackTrace()) {
      if (e.getClassName().startsWith("ai.distill.")) {
        b.append("\n  at ").append(e);
      }
    }
    return b.toString();
  }

  /** A Vert.x whose blocked-thread checker flags event-loop tasks over 250 ms. */
  public static Vertx strictVertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setMaxEventLoopExecuteTime(MAX_EVENT_LOOP_MILLIS)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
            .setBlockedThreadCheckInterval(50)
            .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
            .setWarningExceptionTime(MAX_EVENT_LOOP_MILLIS)
            .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
  }

  /** Blocked-thread warnings seen so far (and clears them). */
  public static List<String> drainBlockedWarnings() {
    List<String> seen = List.copyOf(BLOCKED);
    BLOCKED.clear();
    return seen;
  }

  /** Publishes {@code model} as the next version of {@code name}. */
  public static ModelVersion publish(ModelStore store, String name, OnnxModel model) {
    return store.publish(PublishRequest.fromBytes(name, model.toBytes(), Role.TEACHER));
  }

  /**
   * Occupies all {@code workers} threads of the gateway's ORT worker pool (the shared executor
   * "distill-ort") until the returned latch is counted down: a batch the batcher dispatches then
   * waits for a thread, so later requests stay queued behind it. Call after the gateway started.
   */
  public static java.util.concurrent.CountDownLatch holdOrtWorkers(Vertx vertx, int workers) {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    io.vertx.core.WorkerExecutor pool = vertx.createSharedWorkerExecutor("distill-ort", workers);
    for (int i = 0; i < workers; i++) {
      pool.executeBlocking(() -> release.await(30, TimeUnit.SECONDS), false);
    }
    return release;
  }

  /** A gateway config on an ephemeral loopback port with a fixed admin token. */
  public static GatewayConfig.Builder config(Path store) {
    return GatewayConfig.builder(store)
        .host("127.0.0.1")
        .port(0)
        .adminToken("test-token")
        .workers(2)
        .watchInterval(java.time.Duration.ofMillis(100))
        .shutdownGrace(java.time.Duration.ofMillis(50));
  }

  public static WebClient client(Vertx vertx) {
    return WebClient.create(
        vertx,
        new WebClientOptions().setDefaultHost("127.0.0.1").setKeepAlive(true),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64));
  }

  /**
   * An OIP infer body of {@code rows} rows for the tiny CTR models ({@code dense} FP32 [rows, 4],
   * {@code sparse} INT64 [rows, 3]), with {@code user_id} when {@code user} is not null.
   */
  public static JsonObject inferBody(String user, int rows) {
    JsonArray dense = new JsonArray();
    JsonArray sparse = new JsonArray();
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < 4; i++) {
        dense.add(0.1 * (i + r));
      }
      for (int i = 0; i < 3; i++) {
        sparse.add((i + r) % 10);
      }
    }
    JsonObject body =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "dense")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(rows).add(4))
                            .put("data", dense))
                    .add(
                        new JsonObject()
                            .put("name", "sparse")
                            .put("datatype", "INT64")
                            .put("shape", new JsonArray().add(rows).add(3))
                            .put("data", sparse)));
    if (user != null) {
      body.put("parameters", new JsonObject().put("user_id", user));
    }
    return body;
  }
}
