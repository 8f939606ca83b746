package ai.distill.gateway.fuzz;

import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * gRPC at the wire: HTTP/2 (h2c, prior knowledge) requests whose bodies are written frame by frame
 * by the test, so a frame can lie (a length prefix claiming more or less than follows, the
 * compressed flag without an encoding) and headers can be wrong, which a gRPC client library never
 * sends. Reads the status from the trailers (or the headers of a trailers-only answer) and splits
 * the body into its messages. Thread-safe (one Vert.x client).
 *
 * <p>Every call runs on one Vert.x context of its own. Called from the test's thread, Vert.x
 * 5.0.7's {@code HttpClientResponse.body()} could be set up after the connection's event loop had
 * already delivered the end of a trailers-only answer (headers with END_STREAM: every refusal), and
 * the end was then dropped: the body never completed (eclipse-vertx/vert.x#6038, fixed after 5.0.7
 * by #6064/#6071). That was the "0.2–0.6 % of hostile calls answered only when resent": each such
 * call had its answer's headers, grpc-status included, and waited for an end the client lost.
 */
final class GrpcWire implements AutoCloseable {

  static final String SERVICE = "/inference.GRPCInferenceService/";

  /** A call not answered within this long counts as unanswered (and fails; never resent). */
  static final int STALL_SECONDS = 10;

  /**
   * An answer: grpc-status (-1 when absent), its message, the response messages, the HTTP status.
   */
  record Call(int status, String message, List<byte[]> messages, int httpStatus, String problem) {
    @Override
    public String toString() {
      return problem != null
          ? "no answer (" + problem + ")"
          : "grpc-status "
              + status
              + " '"
              + message
              + "' (HTTP "
              + httpStatus
              + ", "
              + messages.size()
              + " messages)";
    }
  }

  private final Context context;
  private final HttpClient client;
  private final java.util.concurrent.atomic.AtomicLong connections =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * One client, keeping one HTTP/2 connection for every call as long as the server keeps it open:
   * what one hostile call leaves on the connection is what the next call meets.
   */
  GrpcWire(Vertx vertx, int port) {
    this.context = vertx.getOrCreateContext();
    this.client =
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false)
                    // the connection stays between test classes however long they are apart (the
                    // default closes it after 60 s unused, which the fuzz would read as a lost one)
                    .setHttp2KeepAliveTimeout(0)
                    .setDefaultHost("127.0.0.1")
                    .setDefaultPort(port))
            .withConnectHandler(c -> connections.incrementAndGet())
            .build();
  }

  /** HTTP/2 connections opened so far (a new one only when the server closed the last). */
  long connections() {
    return connections.get();
  }

  /** One length-prefixed message: flag 0, its true length. */
  static Buffer frame(byte[] message) {
    return frame(0, message.length, message);
  }

  /** One length-prefixed message with the given flag and claimed length (which may lie). */
  static Buffer frame(int flag, long claimedLength, byte[] message) {
    return Buffer.buffer()
        .appendByte((byte) flag)
        .appendInt((int) claimedLength)
        .appendBytes(message);
  }

  /** Calls {@code method} with {@code body} (already framed) and default gRPC headers. */
  Call call(String method, Buffer body) {
    return call(method, body, Map.of("content-type", "application/grpc", "te", "trailers"));
  }

  synchronized Call call(String method, Buffer body, Map<String, String> headers) {
    RequestOptions options =
        new RequestOptions().setMethod(HttpMethod.POST).setURI(SERVICE + method);
    headers.forEach(options::putHeader);
    // What the call got to, for the report when it gets no answer.
    AtomicReference<String> stage = new AtomicReference<>("no HTTP/2 stream");
    Promise<Call> answer = Promise.promise();
    // On the client's own context: the response's end and the body() that waits for it are then
    // on one thread (see the class comment).
    context.runOnContext(
        v ->
            client
                .request(options)
                .compose(
                    req -> {
                      stage.set("request not written");
                      req.end(body).onSuccess(w -> stage.set("written, no response"));
                      return req.response();
                    })
                .compose(
                    resp -> {
                      stage.set("response headers, no end");
                      return resp.body().map(b -> answer(resp, b));
                    })
                .onComplete(answer));
    try {
      return answer.future().await(STALL_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      return new Call(-1, "", List.of(), 0, e + " (" + stage.get() + ")");
    }
  }

  private static Call answer(HttpClientResponse resp, Buffer body) {
    MultiMap trailers = resp.trailers();
    String s = trailers.get("grpc-status");
    String m = trailers.get("grpc-message");
    if (s == null) {
      s = resp.headers().get("grpc-status");
      m = resp.headers().get("grpc-message");
    }
    return new Call(
        s == null ? -1 : Integer.parseInt(s),
        m == null ? "" : percentDecoded(m),
        split(body),
        resp.statusCode(),
        null);
  }

  /** A grpc-message as sent: percent-encoded UTF-8 (gRPC's HTTP/2 protocol). */
  static String percentDecoded(String message) {
    try {
      return java.net.URLDecoder.decode(
          message.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return message; // not valid percent-encoding: shown as received
    }
  }

  /** The messages of a response body. */
  static List<byte[]> split(Buffer body) {
    List<byte[]> out = new ArrayList<>();
    int at = 0;
    while (at + 5 <= body.length()) {
      int n = body.getInt(at + 1);
      if (n < 0 || at + 5 + n > body.length()) {
        break;
      }
      out.add(body.getBytes(at + 5, at + 5 + n));
      at += 5 + n;
    }
    return out;
  }

  @Override
  public void close() {
    try {
      client.close().await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway
    }
  }
}
