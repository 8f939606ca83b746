package ai.distill.gateway;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not a test: throughput of the gateway over loopback against in-process ORT on the same model,
 * rows per request and cores, measured side by side in one run. Noisy machines give indicative
 * numbers only.
 *
 * <pre>
 * mvn -B -q -o -pl gateway -am test-compile \
 *   org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
 *   -Dmdep.outputFile=/tmp/gw-cp.txt -Dmdep.includeScope=test
 * CLASSPATH=gateway/target/test-classes:gateway/target/classes:optimizer/target/classes:$(cat /tmp/gw-cp.txt) \
 *   java -Xmx2g ai.distill.gateway.GatewayThroughputBench ../shared 10 16
 * </pre>
 *
 * Use {@code CLASSPATH}, not {@code -cp}: ORT 1.29 crashes on a long process command line.
 * Arguments: shared dir (holding fixtures/ctr-mlp-torch), seconds per phase, requests in flight.
 */
public final class GatewayThroughputBench {

  static final int ROWS = 64;

  public static void main(String[] args) throws Exception {
    Path fixture = Path.of(args.length > 0 ? args[0] : "../shared", "fixtures", "ctr-mlp-torch");
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    int cores = Runtime.getRuntime().availableProcessors();
    List<JsonObject> rows = new ArrayList<>();
    for (String line : Files.readAllLines(fixture.resolve("rows.jsonl"))) {
      if (!line.isBlank() && rows.size() < ROWS * 32) {
        rows.add(new JsonObject(line));
      }
    }
    int requests = rows.size() / ROWS;
    float[][] dense = new float[requests][ROWS * 13];
    long[][] sparse = new long[requests][ROWS * 26];
    for (int r = 0; r < requests; r++) {
      for (int i = 0; i < ROWS; i++) {
        JsonObject in = rows.get(r * ROWS + i).getJsonObject("inputs");
        for (int j = 0; j < 13; j++) {
          dense[r][i * 13 + j] = in.getJsonArray("dense").getFloat(j);
        }
        for (int j = 0; j < 26; j++) {
          sparse[r][i * 26 + j] = in.getJsonArray("sparse").getLong(j);
        }
      }
    }
    System.out.printf(
        "model %s, %d-row requests, %d cores, %d s per phase, %d requests in flight%n",
        fixture.resolve("model.onnx"), ROWS, cores, seconds, inFlight);

    System.out.flush();
    double ort =
        Boolean.getBoolean("bench.skipOrt")
            ? Double.NaN
            : inProcessOrt(fixture.resolve("model.onnx"), dense, sparse, cores, seconds);
    System.out.printf(
        "in-process ORT          %,12.0f rows/s  (%d threads, 1 intra-op thread each)%n",
        ort, cores);

    Path store = Files.createTempDirectory("distill-bench");
    ModelStore.open(store)
        .publish(PublishRequest.fromFile("ctr", fixture.resolve("model.onnx"), Role.TEACHER));
    Vertx vertx = Vertx.vertx();
    Gateway gateway =
        Gateway.start(
                vertx,
                GatewayConfig.builder(store)
                    .host("127.0.0.1")
                    .port(0)
                    .adminToken("bench")
                    .batching(BatchingConfig.DEFAULT)
                    .build())
            .await();
    try {
      List<Buffer> json = new ArrayList<>();
      List<Buffer> binary = new ArrayList<>();
      List<Integer> headers = new ArrayList<>();
      for (int r = 0; r < requests; r++) {
        json.add(jsonRequest(dense[r], sparse[r]));
        Buffer header = binaryHeader();
        headers.add(header.length());
        binary.add(binaryRequest(header, dense[r], sparse[r]));
      }
      // Two rounds: the first also warms up the JIT (decoder, encoder, HTTP stack).
      for (int round = 1; round <= 2; round++) {
        double gwJson = overHttp(vertx, gateway.port(), json, null, seconds, inFlight);
        System.out.printf(
            "round %d gateway JSON    %,12.0f rows/s  = %.2f x in-process ORT%n",
            round, gwJson, gwJson / ort);
        double gwBinary = overHttp(vertx, gateway.port(), binary, headers, seconds, inFlight);
        System.out.printf(
            "round %d gateway binary  %,12.0f rows/s  = %.2f x in-process ORT%n",
            round, gwBinary, gwBinary / ort);
      }
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
  }

  static double inProcessOrt(Path model, float[][] dense, long[][] sparse, int threads, int seconds)
      throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      try (OrtSession session = env.createSession(model.toString(), options)) {
        AtomicBoolean warm = new AtomicBoolean(true);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong rows = new AtomicLong();
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
          int offset = t;
          Thread thread =
              new Thread(
                  () -> {
                    int i = offset;
                    try {
                      while (running.get()) {
                        int r = i++ % dense.length;
                        ByteBuffer d =
                            ByteBuffer.allocateDirect(dense[r].length * 4)
                                .order(ByteOrder.nativeOrder());
                        d.asFloatBuffer().put(dense[r]);
                        ByteBuffer s =
                            ByteBuffer.allocateDirect(sparse[r].length * 8)
                                .order(ByteOrder.nativeOrder());
                        s.asLongBuffer().put(sparse[r]);
                        try (OnnxTensor dt =
                                OnnxTensor.createTensor(
                                    env, d.asFloatBuffer(), new long[] {ROWS, 13});
                            OnnxTensor st =
                                OnnxTensor.createTensor(
                                    env, s.asLongBuffer(), new long[] {ROWS, 26});
                            OrtSession.Result res =
                                session.run(Map.of("dense", dt, "sparse", st))) {
                          ((OnnxTensor) res.get(0)).getFloatBuffer();
                        }
                        if (!warm.get()) {
                          rows.addAndGet(ROWS);
                        }
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    } finally {
                      done.countDown();
                    }
                  });
          thread.start();
        }
        Thread.sleep(2000);
        warm.set(false);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long counted = rows.get();
        double elapsed = (System.nanoTime() - start) / 1e9;
        running.set(false);
        done.await();
        return counted / elapsed;
      }
    }
  }

  static double overHttp(
      Vertx vertx,
      int port,
      List<Buffer> bodies,
      List<Integer> headerLengths,
      int seconds,
      int inFlight)
      throws Exception {
    var client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(inFlight));
    AtomicBoolean warm = new AtomicBoolean(true);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong rows = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    CountDownLatch done = new CountDownLatch(inFlight);
    for (int c = 0; c < inFlight; c++) {
      send(client, port, bodies, headerLengths, c, running, warm, rows, failures, done);
    }
    Thread.sleep(2000);
    warm.set(false);
    long start = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long counted = rows.get();
    double elapsed = (System.nanoTime() - start) / 1e9;
    running.set(false);
    done.await(30, TimeUnit.SECONDS);
    client.close().await();
    if (failures.get() > 0) {
      System.out.println("  (" + failures.get() + " failed requests)");
    }
    return counted / elapsed;
  }

  private static void send(
      io.vertx.core.http.HttpClient client,
      int port,
      List<Buffer> bodies,
      List<Integer> headerLengths,
      int i,
      AtomicBoolean running,
      AtomicBoolean warm,
      AtomicLong rows,
      AtomicLong failures,
      CountDownLatch done) {
    if (!running.get()) {
      done.countDown();
      return;
    }
    int r = i % bodies.size();
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setPort(port)
            .setHost("127.0.0.1")
            .setURI("/v2/models/ctr/infer");
    if (headerLengths != null) {
      options
          .putHeader("Inference-Header-Content-Length", headerLengths.get(r).toString())
          .putHeader("Content-Type", "application/octet-stream");
    } else {
      options.putHeader("Content-Type", "application/json");
    }
    client
        .request(options)
        .compose(req -> req.send(bodies.get(r)))
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() == 200) {
                if (!warm.get()) {
                  rows.addAndGet(ROWS);
                }
              } else {
                failures.incrementAndGet();
              }
              send(client, port, bodies, headerLengths, i + 1, running, warm, rows, failures, done);
            });
  }

  static Buffer jsonRequest(float[] dense, long[] sparse) {
    JsonArray d = new JsonArray();
    for (float f : dense) {
      d.add(f);
    }
    JsonArray s = new JsonArray();
    for (long l : sparse) {
      s.add(l);
    }
    return new JsonObject()
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "dense")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(ROWS).add(13))
                        .put("data", d))
                .add(
                    new JsonObject()
                        .put("name", "sparse")
                        .put("datatype", "INT64")
                        .put("shape", new JsonArray().add(ROWS).add(26))
                        .put("data", s)))
        .toBuffer();
  }

  static Buffer binaryHeader() {
    return new JsonObject()
        .put(
            "inputs",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "dense")
                        .put("datatype", "FP32")
                        .put("shape", new JsonArray().add(ROWS).add(13))
                        .put("parameters", new JsonObject().put("binary_data_size", ROWS * 13 * 4)))
                .add(
                    new JsonObject()
                        .put("name", "sparse")
                        .put("datatype", "INT64")
                        .put("shape", new JsonArray().add(ROWS).add(26))
                        .put(
                            "parameters", new JsonObject().put("binary_data_size", ROWS * 26 * 8))))
        .put("parameters", new JsonObject().put("binary_data_output", true))
        .toBuffer();
  }

  static Buffer binaryRequest(Buffer header, float[] dense, long[] sparse) {
    ByteBuffer b =
        ByteBuffer.allocate(dense.length * 4 + sparse.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer f = b.asFloatBuffer();
    f.put(dense);
    b.position(dense.length * 4);
    LongBuffer l = b.slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    l.put(sparse);
    return Buffer.buffer().appendBuffer(header).appendBytes(b.array());
  }
}
