package ai.distill.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.web.client.WebClient;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /v1/models/{m}/stream}: order, bad lines, backpressure, memory, disconnects. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NdjsonStreamTest {

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;
  WebClient web;
  HttpClient http;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "tiny", TinyModels.mlp(4, new int[] {4}, 3));
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    web = TestGateways.client(vertx);
    http =
        vertx.createHttpClient(
            new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(gateway.port()));
  }

  @AfterAll
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  @AfterEach
  void no_event_loop_was_blocked() {
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  static String row(long i) {
    float a = (i % 97) / 97f;
    return "{\"inputs\":{\"x\":[" + a + ",0.5,-0.25," + (i % 3) + "]},\"label\":1}\n";
  }

  float unaryProb(float a, float d) {
    JsonObject body =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "x")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(1).add(4))
                            .put("data", new JsonArray().add(a).add(0.5f).add(-0.25f).add(d))));
    JsonObject out =
        web.post(gateway.port(), "127.0.0.1", "/v2/models/tiny/infer")
            .sendJsonObject(body)
            .await()
            .bodyAsJsonObject();
    return out.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getFloat(0);
  }

  List<String> post(String model, String body) {
    Buffer out =
        web.post(gateway.port(), "127.0.0.1", "/v1/models/" + model + "/stream")
            .sendBuffer(Buffer.buffer(body))
            .await()
            .body();
    return Arrays.asList(out.toString(StandardCharsets.UTF_8).split("\n"));
  }

  @Test
  void scores_each_row_in_order_like_unary_and_answers_bad_lines_in_place() {
    String body =
        row(0)
            + "{\"inputs\": {\"x\": [1, 2]}}\n"
            + "{not json\n"
            + "\n"
            + row(5)
            + "{\"inputs\": {\"x\": [[0.5, 0.5, \"a\", 1]]}}\n"
            + "{\"inputs\": {}}\n"
            + row(6).replace("\n", "\r\n");
    List<String> lines = post("tiny", body);
    assertEquals(7, lines.size(), lines.toString());
    JsonObject first = new JsonObject(lines.get(0));
    assertEquals(0, first.getInteger("row"));
    assertEquals(
        unaryProb(0f, 0f), first.getJsonObject("outputs").getJsonArray("prob").getFloat(0), 1e-6);
    assertEquals(
        "{\"row\":1,\"error\":\"input 'x': 2 values, expected 4 (shape [-1, 4] without the batch"
            + " dimension)\"}",
        lines.get(1));
    assertTrue(lines.get(2).startsWith("{\"row\":2,\"error\":\"malformed JSON"), lines.get(2));
    JsonObject fifth = new JsonObject(lines.get(3));
    assertEquals(3, fifth.getInteger("row"));
    assertEquals(
        unaryProb(5 / 97f, 2f),
        fifth.getJsonObject("outputs").getJsonArray("prob").getFloat(0),
        1e-6);
    assertEquals(
        "{\"row\":4,\"error\":\"input 'x': value 2 is not a number (FP32)\"}", lines.get(4));
    assertEquals("{\"row\":5,\"error\":\"row has no input(s) [x] in 'inputs'\"}", lines.get(5));
    assertEquals(6, new JsonObject(lines.get(6)).getInteger("row"));
  }

  @Test
  void bad_lines_are_counted_as_bad_requests_of_the_stream() {
    String series =
        "distill_requests_total{model=\"tiny\",outcome=\"bad_request\",transport=\"stream\","
            + "version=\"1\"}";
    double before = counter(series);
    List<String> lines = post("tiny", row(0) + "{not json\n" + "{\"inputs\": {}}\n" + row(1));
    assertEquals(4, lines.size(), lines.toString());
    assertEquals(2, counter(series) - before, "one bad request per bad line");
  }

  double counter(String series) {
    String metrics = web.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    return 0;
  }

  @Test
  void unknown_model_is_a_404_before_any_line() {
    var resp =
        web.post(gateway.port(), "127.0.0.1", "/v1/models/nope/stream")
            .sendBuffer(Buffer.buffer(row(0)))
            .await();
    assertEquals(404, resp.statusCode());
    assertTrue(resp.bodyAsJsonObject().getString("error").contains("'nope' is not loaded"));
  }

  /**
   * Sends {@code total} rows (Long.MAX_VALUE: until closed) honouring the request's backpressure.
   */
  static void pump(HttpClientRequest req, long total, AtomicLong sent) {
    pump(req, total, sent, new AtomicBoolean());
  }

  static void pump(HttpClientRequest req, long total, AtomicLong sent, AtomicBoolean stop) {
    if (stop.get()) {
      return;
    }
    while (!req.writeQueueFull() && sent.get() < total && !stop.get()) {
      StringBuilder chunk = new StringBuilder(64 * 1024);
      long end = Math.min(total, sent.get() + 1000);
      for (long i = sent.get(); i < end; i++) {
        chunk.append(row(i));
      }
      sent.set(end);
      req.write(chunk.toString());
    }
    if (sent.get() >= total) {
      req.end();
    } else {
      req.drainHandler(v -> pump(req, total, sent, stop));
    }
  }

  @Test
  void a_million_rows_read_slowly_keep_the_gateway_buffer_bounded_and_unary_traffic_served()
      throws Exception {
    long total = 1_000_000;
    StreamStats stats = gateway.streamStats();
    List<Long> idle = unaryLatencies(100);
    AtomicLong sent = new AtomicLong();
    AtomicLong received = new AtomicLong();
    AtomicBoolean inOrder = new AtomicBoolean(true);
    AtomicBoolean answeredBeforeSent = new AtomicBoolean();
    AtomicLong maxHeap = new AtomicLong();
    var memory = ManagementFactory.getMemoryMXBean();
    long heapTimer =
        vertx.setPeriodic(
            100, id -> maxHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max));
    Promise<Void> done = Promise.promise();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(
        v ->
            http.request(HttpMethod.POST, "/v1/models/tiny/stream")
                .onFailure(done::tryFail)
                .onSuccess(
                    req -> {
                      req.setChunked(true);
                      req.response()
                          .onFailure(done::tryFail)
                          .onSuccess(
                              resp -> {
                                RecordParser lines = RecordParser.newDelimited("\n", resp);
                                lines.handler(
                                    line -> {
                                      long n = received.getAndIncrement();
                                      if (n == 0 && sent.get() < total) {
                                        answeredBeforeSent.set(true);
                                      }
                                      String prefix = "{\"row\":" + n + ",\"outputs\"";
                                      if (!line.toString(StandardCharsets.UTF_8)
                                          .startsWith(prefix)) {
                                        inOrder.set(false);
                                      }
                                      // A deliberately slow reader: a 1 ms nap every 512 lines.
                                      if (n % 512 == 511) {
                                        lines.pause();
                                        vertx.setTimer(1, t -> lines.resume());
                                      }
                                    });
                                lines.endHandler(e -> done.tryComplete());
                                lines.exceptionHandler(done::tryFail);
                              });
                      pump(req, total, sent);
                    }));
    List<Long> busy = new ArrayList<>();
    while (received.get() == 0) {
      Thread.sleep(5);
    }
    busy.addAll(unaryLatencies(100));
    done.future().await(5, TimeUnit.MINUTES);
    vertx.cancelTimer(heapTimer);
    System.out.printf(
        "ndjson 1M rows: max buffered rows %d, max heap used %d MiB; unary p50/p99 idle %.2f/%.2f"
            + " ms, during the stream %.2f/%.2f ms%n",
        stats.maxBufferedRows(),
        maxHeap.get() >> 20,
        pct(idle, 0.5),
        pct(idle, 0.99),
        pct(busy, 0.5),
        pct(busy, 0.99));
    assertEquals(total, received.get());
    assertTrue(inOrder.get(), "every line answers its row, in order");
    assertTrue(answeredBeforeSent.get(), "answers flow before the request body has been sent");
    // (maxInFlight + 1) micro-batches of max_batch_rows (256): the stream's whole footprint
    assertTrue(stats.maxBufferedRows() <= 3 * 256, "buffered rows " + stats.maxBufferedRows());
    assertEquals(0, stats.bufferedRows());
    assertEquals(0, stats.open());
    assertEquals(200, idle.size() + busy.size());
  }

  List<Long> unaryLatencies(int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      unaryProb(0.1f, 1f);
      out.add(System.nanoTime() - t0);
    }
    return out;
  }

  static double pct(List<Long> nanos, double q) {
    List<Long> s = new ArrayList<>(nanos);
    s.sort(null);
    return s.get((int) Math.min(s.size() - 1, Math.floor(q * s.size()))) / 1e6;
  }

  @Test
  void a_client_that_disconnects_mid_stream_leaves_nothing_behind() throws Exception {
    StreamStats stats = gateway.streamStats();
    AtomicLong sent = new AtomicLong();
    AtomicLong received = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    Promise<HttpClientRequest> started = Promise.promise();
    vertx
        .getOrCreateContext()
        .runOnContext(
            v ->
                http.request(HttpMethod.POST, "/v1/models/tiny/stream")
                    .onFailure(started::tryFail)
                    .onSuccess(
                        req -> {
                          req.setChunked(true);
                          req.response()
                              .onSuccess(
                                  resp -> {
                                    resp.handler(b -> received.addAndGet(b.length()));
                                    started.tryComplete(req);
                                  });
                          pump(req, Long.MAX_VALUE, sent, stop);
                        }));
    HttpClientRequest req = started.future().await(30, TimeUnit.SECONDS);
    while (received.get() < 10_000) {
      Thread.sleep(5);
    }
    assertEquals(1, stats.open());
    stop.set(true);
    req.connection().close().await();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((stats.open() > 0
            || stats.bufferedRows() > 0
            || gauge("distill_inflight_requests") > 0
            || gauge("distill_queue_depth") > 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, stats.open());
    assertEquals(0, stats.bufferedRows());
    assertEquals(0, gauge("distill_inflight_requests"), "micro-batches still in the batcher");
    assertEquals(0, gauge("distill_queue_depth"));
    float after = unaryProb(0.1f, 1f);
    assertTrue(after > 0f && after < 1f);
  }

  double gauge(String name) {
    String text = web.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
    String prefix = name + "{model=\"tiny\",version=\"1\"} ";
    for (String line : text.split("\n")) {
      if (line.startsWith(prefix)) {
        return Double.parseDouble(line.substring(prefix.length()));
      }
    }
    return 0;
  }
}
