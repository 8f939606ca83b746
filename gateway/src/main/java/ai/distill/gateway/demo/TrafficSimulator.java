package ai.distill.gateway.demo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Simulated users of the demo: each request asks the gateway to score a user's candidate list
 * through an experiment, the user sees the {@code shown} best-scored candidates and clicks each
 * with the world's true probability, and the clicks go back as {@code POST /v1/feedback}. A better
 * model ranks better candidates first, so it earns a higher CTR: the experiment measures ranking
 * quality on the business metric, not offline accuracy.
 *
 * <p>Open loop at a fixed rate, with at most {@code maxInFlight} requests outstanding (a tick that
 * finds the limit reached skips its requests and counts them). Runs on one event loop; thread-safe
 * counters.
 */
public final class TrafficSimulator {

  private static final System.Logger LOG = System.getLogger(TrafficSimulator.class.getName());
  private static final long TICK_MS = 10;

  /**
   * Where and how hard to send: {@code users} distinct user ids, the {@code shown} best-scored
   * candidates of each request are shown to the user, {@code maxRequests} (0 = until stopped).
   */
  public record Options(
      String host,
      int port,
      String target,
      int users,
      int shown,
      double requestsPerSecond,
      int maxInFlight,
      long maxRequests,
      long seed) {
    public Options {
      if (maxRequests < 0) {
        throw new IllegalArgumentException(
            "maxRequests : " + maxRequests + " (expected: >= 0, 0 = until stopped)");
      }
      if (users <= 0) {
        throw new IllegalArgumentException("users : " + users + " (expected: > 0)");
      }
      if (shown <= 0) {
        throw new IllegalArgumentException("shown : " + shown + " (expected: > 0)");
      }
      if (!(requestsPerSecond > 0)) {
        throw new IllegalArgumentException(
            "requestsPerSecond : " + requestsPerSecond + " (expected: > 0)");
      }
      if (maxInFlight <= 0) {
        throw new IllegalArgumentException("maxInFlight : " + maxInFlight + " (expected: > 0)");
      }
    }
  }

  /** One request's worth of candidates for a user, as the model's input tensors. */
  public interface CandidateSource {

    /** Draws the candidates; {@code trueProbabilities()} has one entry per candidate row. */
    Candidates draw(Random random);
  }

  /**
   * Candidates as OIP inputs: a JSON array of input objects (name, datatype, shape, data) and the
   * true click probability of each row.
   */
  public record Candidates(JsonArray inputs, double[] trueProbabilities) {}

  private final Vertx vertx;
  private final CandidateSource source;
  private final Options options;
  private final HttpClient client;
  private final Random random;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong clicks = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final io.vertx.core.Promise<Void> finished = io.vertx.core.Promise.promise();
  private double carry;
  private long timer = -1;

  public TrafficSimulator(Vertx vertx, CandidateSource source, Options options) {
    this.vertx = vertx;
    this.source = source;
    this.options = options;
    this.random = new Random(options.seed());
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setDefaultHost(options.host())
                .setDefaultPort(options.port())
                .setTcpNoDelay(true)
                .setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(options.maxInFlight()));
  }

  /** Starts sending; returns at once. */
  public void start() {
    timer = vertx.setPeriodic(TICK_MS, id -> tick());
  }

  /** Stops sending and closes the client once outstanding requests are answered. */
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return client.close();
  }

  /** Completes once {@code maxRequests} requests and their feedback have been answered. */
  public Future<Void> finished() {
    return finished.future();
  }

  /** Clicks reported so far (through feedback that the gateway accepted or not). */
  public long clicks() {
    return clicks.get();
  }

  /** Requests that failed (inference or feedback) so far. */
  public long failed() {
    return failed.get();
  }

  /** Requests sent, failed, skipped at the in-flight limit, and clicks reported so far. */
  public String summary() {
    return "sent="
        + sent.get()
        + " failed="
        + failed.get()
        + " skipped="
        + skipped.get()
        + " clicks="
        + clicks.get();
  }

  private void tick() {
    carry += options.requestsPerSecond() * TICK_MS / 1000.0;
    int due = (int) carry;
    carry -= due;
    for (int i = 0; i < due; i++) {
      if (options.maxRequests() > 0 && sent.get() >= options.maxRequests()) {
        return;
      }
      if (inFlight.get() >= options.maxInFlight()) {
        skipped.addAndGet(due - i);
        return;
      }
      sendOne();
    }
  }

  private void sendOne() {
    String user = "u" + random.nextInt(options.users());
    Candidates candidates = source.draw(random);
    JsonObject body =
        new JsonObject()
            .put("inputs", candidates.inputs())
            .put("parameters", new JsonObject().put("user_id", user));
    inFlight.incrementAndGet();
    sent.incrementAndGet();
    post("/v2/models/" + options.target() + "/infer", body)
        .compose(response -> sendFeedback(response, candidates))
        .onComplete(
            ar -> {
              inFlight.decrementAndGet();
              if (answered.incrementAndGet() == options.maxRequests()) {
                finished.tryComplete();
              }
              if (ar.failed()) {
                long n = failed.incrementAndGet();
                if (n == 1 || n % 1000 == 0) {
                  LOG.log(
                      System.Logger.Level.WARNING,
                      "demo traffic: {0} failed requests, last: {1}",
                      n,
                      ar.cause().getMessage());
                }
              }
            });
  }

  private Future<Void> sendFeedback(JsonObject response, Candidates candidates) {
    double[] scores = firstOutput(response);
    int rows = candidates.trueProbabilities().length;
    if (scores.length != rows) {
      return Future.failedFuture("expected " + rows + " scores, got " + scores.length);
    }
    Integer[] order = new Integer[rows];
    for (int i = 0; i < rows; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
    JsonArray clickArray = new JsonArray();
    int[] click = new int[rows];
    for (int k = 0; k < Math.min(options.shown(), rows); k++) {
      int row = order[k];
      if (random.nextDouble() < candidates.trueProbabilities()[row]) {
        click[row] = 1;
        clicks.incrementAndGet();
      }
    }
    for (int c : click) {
      clickArray.add(c);
    }
    JsonObject feedback =
        new JsonObject().put("id", response.getString("id")).put("clicks", clickArray);
    return post("/v1/feedback", feedback).mapEmpty();
  }

  private static double[] firstOutput(JsonObject response) {
    JsonArray outputs = response.getJsonArray("outputs");
    JsonArray data = outputs.getJsonObject(0).getJsonArray("data");
    double[] scores = new double[data.size()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = data.getDouble(i);
    }
    return scores;
  }

  private Future<JsonObject> post(String path, JsonObject body) {
    return client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(path)
                .putHeader("content-type", "application/json"))
        .compose(request -> request.send(body.toBuffer()))
        .compose(
            response ->
                response
                    .body()
                    .compose(
                        buffer -> {
                          if (response.statusCode() / 100 != 2) {
                            return Future.failedFuture(
                                path
                                    + " answered "
                                    + response.statusCode()
                                    + ": "
                                    + buffer.toString());
                          }
                          return Future.succeededFuture(parse(buffer));
                        }));
  }

  private static JsonObject parse(Buffer buffer) {
    return buffer.length() == 0 ? new JsonObject() : buffer.toJsonObject();
  }
}
