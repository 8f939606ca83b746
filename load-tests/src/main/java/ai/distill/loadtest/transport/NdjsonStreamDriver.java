package ai.distill.loadtest.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives {@code POST /v1/models/{m}/stream}: {@code streams} NDJSON uploads of the rows format,
 * written as fast as the gateway's backpressure lets them, for a warm-up then a measured interval;
 * counts the answer lines read in the interval.
 */
public final class NdjsonStreamDriver {

  private final Vertx vertx;
  private final String host;
  private final int port;
  private final String model;
  private final TransportPayloads payloads;

  public NdjsonStreamDriver(
      Vertx vertx, String host, int port, String model, TransportPayloads payloads) {
    this.vertx = vertx;
    this.host = host;
    this.port = port;
    this.model = model;
    this.payloads = payloads;
  }

  /** Runs and blocks until done; call from a non-event-loop thread. */
  public StreamRate run(int streams, Duration warmup, Duration measure) {
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true));
    AtomicLong rows = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long from = System.nanoTime() + warmup.toNanos();
    long to = from + measure.toNanos();
    List<Future<Void>> calls = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      Promise<Void> done = Promise.promise();
      calls.add(done.future());
      RequestOptions options =
          new RequestOptions()
              .setMethod(HttpMethod.POST)
              .setHost(host)
              .setPort(port)
              .setURI("/v1/models/" + model + "/stream")
              .putHeader("Content-Type", "application/x-ndjson");
      vertx
          .getOrCreateContext()
          .runOnContext(
              v ->
                  http.request(options)
                      .onFailure(done::tryFail)
                      .onSuccess(req -> drive(req, to, from, rows, errors, done)));
    }
    try {
      Future.all(calls).await();
    } finally {
      http.close().await();
    }
    return new StreamRate("ndjson stream", rows.get(), measure.toNanos() / 1e9, errors.get());
  }

  /**
   * Counts answer lines straight from the response chunks, without a buffer per line (the client
   * shares the cores with the gateway): {@code {"row":n,"error":"..."}} ends with {@code "}, an
   * answer with outputs with {@code ]}}.
   */
  private static final class AnswerCounter {
    private final long from;
    private final long to;
    private final AtomicLong rows;
    private final AtomicLong errors;
    private byte last;
    private byte beforeLast;

    AnswerCounter(long from, long to, AtomicLong rows, AtomicLong errors) {
      this.from = from;
      this.to = to;
      this.rows = rows;
      this.errors = errors;
    }

    void count(Buffer chunk) {
      byte[] bytes = chunk.getBytes();
      long good = 0;
      long bad = 0;
      for (byte b : bytes) {
        if (b == '\n') {
          if (beforeLast == '"') {
            bad++;
          } else {
            good++;
          }
        }
        beforeLast = last;
        last = b;
      }
      long now = System.nanoTime();
      errors.addAndGet(bad);
      if (now >= from && now < to) {
        rows.addAndGet(good);
      }
    }
  }

  private void drive(
      HttpClientRequest req,
      long to,
      long from,
      AtomicLong rows,
      AtomicLong errors,
      Promise<Void> done) {
    req.setChunked(true);
    long[] next = {0};
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (!req.writeQueueFull()) {
            if (System.nanoTime() >= to) {
              req.end();
              return;
            }
            req.write(payloads.ndjson(next[0]++));
          }
          req.drainHandler(v -> pump[0].run());
        };
    req.response()
        .onFailure(done::tryFail)
        .onSuccess(
            resp -> {
              AnswerCounter counter = new AnswerCounter(from, to, rows, errors);
              resp.handler(counter::count);
              resp.endHandler(v -> done.tryComplete());
              resp.exceptionHandler(done::tryFail);
            });
    pump[0].run();
  }
}
