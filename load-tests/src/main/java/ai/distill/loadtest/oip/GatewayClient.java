package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.Outcome;
import ai.distill.loadtest.generator.RequestSender;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An OIP v2 client for one gateway on a loopback address: model metadata, {@code /metrics} scrapes,
 * and a {@link RequestSender} for inference requests over a bounded connection pool (HTTP/1.1
 * keep-alive, {@code connections} sockets, a wait queue bounded by {@code maxWaiting}). The
 * blocking methods ({@link #metadata}, {@link #metrics}) must not be called on an event loop.
 * Thread-safe. Closing it closes the HTTP client, not the {@link Vertx}.
 */
public final class GatewayClient implements AutoCloseable {
  private final HttpClientAgent http;
  private final Context context;
  private final URI base;
  private final String host;
  private final int port;
  private final long timeoutMillis;

  private GatewayClient(HttpClientAgent http, Context context, URI base, long timeoutMillis) {
    this.http = http;
    this.context = context;
    this.base = base;
    this.host = base.getHost();
    this.port = base.getPort() > 0 ? base.getPort() : 80;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * @throws LoadTestException when {@code base} is not an http URL on a loopback address (this tool
   *     only ever loads the local machine)
   */
  public static GatewayClient create(
      Vertx vertx, URI base, int connections, int maxWaiting, Duration requestTimeout) {
    checkLoopback(base);
    HttpClientOptions options = new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true);
    PoolOptions pool =
        new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(maxWaiting);
    // All requests are issued from one event-loop context: issuing them from the generator's own
    // thread lost a few requests (never completed, no timeout) while the pool was growing.
    Context context = vertx.getOrCreateContext();
    return new GatewayClient(
        vertx.httpClientBuilder().with(options).with(pool).build(),
        context,
        base,
        requestTimeout.toMillis());
  }

  public static void checkLoopback(URI base) {
    if (base == null || !"http".equals(base.getScheme()) || base.getHost() == null) {
      throw new LoadTestException(
          "gateway URL "
              + base
              + " is not an http://host:port URL (example: http://127.0.0.1:8080)");
    }
    try {
      if (!InetAddress.getByName(base.getHost()).isLoopbackAddress()) {
        throw new LoadTestException(
            "gateway URL "
                + base
                + " is not a loopback address; this tool only loads the local "
                + "machine (use 127.0.0.1 or localhost)");
      }
    } catch (UnknownHostException e) {
      throw new LoadTestException(
          "gateway host " + base.getHost() + " does not resolve (use 127.0.0.1)", e);
    }
  }

  public URI base() {
    return base;
  }

  /** {@code GET /v2/models/{model}}; {@code model} may be {@code name:version}. */
  public ModelMetadata metadata(String model) {
    Outcome outcome =
        await(request(HttpMethod.GET, modelPath(model), null, -1, true), "GET " + modelPath(model));
    if (outcome.status() == 404) {
      throw new LoadTestException(
          "unknown model '"
              + model
              + "': the gateway at "
              + base
              + " answered 404 "
              + errorText(outcome)
              + " (publish it into the gateway's store or fix --model)");
    }
    if (outcome.status() != 200) {
      throw new LoadTestException(
          "GET "
              + modelPath(model)
              + " at "
              + base
              + " answered "
              + outcome.key()
              + " "
              + errorText(outcome));
    }
    return ModelMetadata.parse(new JsonObject(outcome.body()));
  }

  /**
   * The teacher of experiment {@code name} ({@code GET /v1/experiments/{name}}), or null when
   * {@code name} is not an experiment of this gateway.
   */
  public String experimentTeacher(String name) {
    String path = "/v1/experiments/" + name;
    Outcome outcome = await(request(HttpMethod.GET, path, null, -1, true), "GET " + path);
    if (outcome.status() != 200) {
      return null;
    }
    return new JsonObject(outcome.body()).getString("teacher");
  }

  /**
   * One scrape of {@code GET /metrics}; {@link MetricsSnapshot#EMPTY} when the gateway has none.
   */
  public MetricsSnapshot metrics() {
    Outcome outcome = await(request(HttpMethod.GET, "/metrics", null, -1, true), "GET /metrics");
    return outcome.status() == 200
        ? MetricsSnapshot.parse(outcome.body().toString())
        : MetricsSnapshot.EMPTY;
  }

  /**
   * Sends pre-encoded inference requests for {@code model} ({@code name} or {@code name:version}).
   */
  public RequestSender inferSender(String model, RequestBodies bodies, boolean keepBody) {
    String path = modelPath(model) + "/infer";
    return new RequestSender() {
      @Override
      public Future<Outcome> send(long i) {
        return request(HttpMethod.POST, path, bodies.body(i), bodies.headerLength(i), keepBody);
      }

      @Override
      public int rowsPerRequest() {
        return bodies.rowsPerRequest();
      }

      @Override
      public boolean canSchedule() {
        return true;
      }

      @Override
      public void schedule(long nanos, Runnable task) {
        GatewayClient.this.schedule(nanos, task);
      }
    };
  }

  /**
   * Runs {@code task} on this client's event loop at {@code nanos} ({@link System#nanoTime()}),
   * inside its context, so that requests it sends go out at once on that thread. Netty's epoll
   * transport times this with a timerfd (microseconds); NIO rounds to milliseconds.
   */
  void schedule(long nanos, Runnable task) {
    ContextInternal internal = (ContextInternal) context;
    internal
        .nettyEventLoop()
        .schedule(
            () -> internal.emit(v -> task.run()),
            Math.max(0, nanos - System.nanoTime()),
            TimeUnit.NANOSECONDS);
  }

  /**
   * A request whose future always succeeds with an {@link Outcome} (transport errors included).
   * Callable from any thread: the request is issued on this client's event-loop context.
   */
  public Future<Outcome> request(
      HttpMethod method, String path, Buffer body, int binaryHeaderLength, boolean keepBody) {
    if (Vertx.currentContext() == context) {
      return issue(method, path, body, binaryHeaderLength, keepBody);
    }
    Promise<Outcome> promise = Promise.promise();
    context.runOnContext(
        v -> issue(method, path, body, binaryHeaderLength, keepBody).onComplete(promise));
    return promise.future();
  }

  private Future<Outcome> issue(
      HttpMethod method, String path, Buffer body, int binaryHeaderLength, boolean keepBody) {
    long[] sent = {System.nanoTime()};
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost(host)
            .setPort(port)
            .setURI(path)
            .setConnectTimeout(timeoutMillis)
            .setIdleTimeout(timeoutMillis);
    return http.request(options)
        .compose(
            req -> {
              sent[0] = System.nanoTime();
              if (body == null) {
                return req.send();
              }
              if (binaryHeaderLength >= 0) {
                req.putHeader("Content-Type", "application/octet-stream");
                req.putHeader(RequestBodies.HEADER_LENGTH, Integer.toString(binaryHeaderLength));
              } else {
                req.putHeader("Content-Type", "application/json");
              }
              return req.send(body);
            })
        .compose(
            resp ->
                resp.body()
                    .map(
                        b ->
                            Outcome.response(
                                resp.statusCode(),
                                sent[0],
                                System.nanoTime(),
                                keepBody ? b : null)))
        .transform(
            ar ->
                Future.succeededFuture(
                    ar.succeeded()
                        ? ar.result()
                        : Outcome.failure(errorKind(ar.cause()), sent[0], System.nanoTime())));
  }

  /** Blocks for a future of this client (not on an event loop). */
  public Outcome await(Future<Outcome> future, String what) {
    Outcome outcome;
    try {
      outcome =
          future
              .toCompletionStage()
              .toCompletableFuture()
              .get(timeoutMillis + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoadTestException("interrupted during " + what);
    } catch (ExecutionException | TimeoutException e) {
      throw new LoadTestException(
          "no answer from the gateway at "
              + base
              + " to "
              + what
              + " within "
              + timeoutMillis
              + " ms");
    }
    if (outcome.status() == 0) {
      throw new LoadTestException(
          "cannot reach the gateway at "
              + base
              + " ("
              + outcome.error()
              + " on "
              + what
              + "): is it running? Start it with `java -jar gateway/target/distill.jar serve --store DIR --port "
              + port
              + "` or fix --url");
    }
    return outcome;
  }

  static String modelPath(String model) {
    int colon = model.indexOf(':');
    return colon < 0
        ? "/v2/models/" + model
        : "/v2/models/" + model.substring(0, colon) + "/versions/" + model.substring(colon + 1);
  }

  private static String errorText(Outcome outcome) {
    if (outcome.body() == null || outcome.body().length() == 0) {
      return "";
    }
    String text = outcome.body().toString();
    return text.length() > 300 ? text.substring(0, 300) + "..." : text;
  }

  static String errorKind(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConnectException) {
        return "connect_refused";
      }
      String name = c.getClass().getSimpleName();
      String message = String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT);
      if (name.contains("Timeout")
          || message.contains("timeout")
          || message.contains("timed out")) {
        return "timeout";
      }
      if (message.contains("wait queue") || message.contains("queue is full")) {
        return "client_queue_full";
      }
      if (name.contains("Closed") || message.contains("closed")) {
        return "connection_closed";
      }
    }
    return "error_" + t.getClass().getSimpleName();
  }

  @Override
  public void close() {
    http.close()
        .toCompletionStage()
        .toCompletableFuture()
        .orTimeout(5, TimeUnit.SECONDS)
        .exceptionally(e -> null)
        .join();
  }
}
