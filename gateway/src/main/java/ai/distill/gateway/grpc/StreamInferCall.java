package ai.distill.gateway.grpc;

import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import ai.distill.gateway.stream.OrderedWindow;
import ai.distill.gateway.stream.StreamStats;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.time.Duration;

/**
 * One {@code ModelStreamInfer} call, with Triton's semantics: every request message gets one
 * response, carrying the request's {@code id}; a message that cannot be served (malformed, unknown
 * model, bad tensors) gets a response with {@code error_message} naming its index, and the stream
 * goes on. Responses are written in request order. At most {@code inFlight} messages are served at
 * once, and the call reads only while the window has room and the client keeps reading (HTTP/2 flow
 * control does the rest), so memory stays bounded for any stream length. A client that reads
 * nothing for {@code stallTimeout} has its HTTP/2 stream reset with ENHANCE_YOUR_CALM, which gRPC
 * clients report as RESOURCE_EXHAUSTED (trailers would queue behind the responses it does not
 * read), and everything the call held is dropped. Runs on one event loop; not thread-safe.
 */
final class StreamInferCall {

  private static final System.Logger LOG = System.getLogger(StreamInferCall.class.getName());

  private final Vertx vertx;
  private final GrpcServerRequest<Buffer, ModelStreamInferResponse> call;
  private final GrpcServerResponse<Buffer, ModelStreamInferResponse> response;
  private final HttpServerResponse http;
  private final GrpcInferenceService service;
  private final OrderedWindow<ModelStreamInferResponse> window;
  private final Duration stallTimeout;
  private final StreamStats stats;
  private final long maxBytes;
  private long messages;
  private boolean paused;
  private boolean inputEnded;
  private boolean finished;
  private long stallTimer = -1;

  /**
   * @param maxBytes the largest message once inflated
   * @param http the call's HTTP/2 response, to reset a stalled stream with a code of our choosing;
   *     null to cancel it instead
   */
  StreamInferCall(
      Vertx vertx,
      GrpcServerRequest<Buffer, ModelStreamInferResponse> call,
      HttpServerResponse http,
      GrpcInferenceService service,
      long maxBytes,
      int inFlight,
      Duration stallTimeout,
      StreamStats stats) {
    this.vertx = vertx;
    this.call = call;
    this.response = call.response();
    this.http = http;
    this.service = service;
    this.maxBytes = maxBytes;
    this.stallTimeout = stallTimeout;
    this.stats = stats;
    this.window = new OrderedWindow<>(inFlight, this::write);
  }

  void start() {
    stats.opened();
    call.messageHandler(this::message); // taken off the wire here (GrpcMessages), not by Vert.x
    call.endHandler(v -> inputEnded());
    call.exceptionHandler(e -> finish());
    call.errorHandler(e -> finish()); // the client cancelled or reset the stream
    response.exceptionHandler(e -> finish());
    response.drainHandler(v -> drained());
  }

  private void message(GrpcMessage body) {
    if (finished) {
      return;
    }
    long index = messages++;
    stats.held(1);
    window.add(serve(body, index));
    flow();
  }

  // Never fails: a failure becomes the message's error response.
  private Future<ModelStreamInferResponse> serve(GrpcMessage message, long index) {
    long start = System.nanoTime();
    ModelInferRequest request;
    try {
      request = GrpcInferenceService.parse(GrpcMessages.payload(message, maxBytes));
    } catch (RuntimeException e) {
      service.refused(e);
      return Future.succeededFuture(error(index, null, e));
    }
    return service
        .infer(request, start, service::streamResponse)
        .recover(e -> Future.succeededFuture(error(index, request, e)));
  }

  private static ModelStreamInferResponse error(
      long index, ModelInferRequest request, Throwable e) {
    ModelInferResponse.Builder echo = ModelInferResponse.newBuilder();
    if (request != null) {
      echo.setId(request.getId())
          .setModelName(request.getModelName())
          .setModelVersion(request.getModelVersion());
    }
    return ModelStreamInferResponse.newBuilder()
        .setErrorMessage("message " + index + ": " + GrpcErrors.message(e))
        .setInferResponse(echo)
        .build();
  }

  private void write(AsyncResult<ModelStreamInferResponse> ar) {
    if (finished) {
      return;
    }
    stats.held(-1);
    response.write(ar.result());
    if (response.writeQueueFull()) {
      startStallTimer();
    }
    completeIfDone();
    flow();
  }

  private void inputEnded() {
    inputEnded = true;
    completeIfDone();
  }

  private void completeIfDone() {
    if (!finished && inputEnded && window.isEmpty()) {
      finish();
      response.end();
    }
  }

  private void drained() {
    cancelStallTimer();
    flow();
  }

  private void startStallTimer() {
    if (stallTimer >= 0) {
      return;
    }
    stallTimer =
        vertx.setTimer(
            stallTimeout.toMillis(),
            id -> {
              stallTimer = -1;
              if (!finished && response.writeQueueFull()) {
                stalled();
              }
            });
  }

  private void stalled() {
    stats.stalledOne();
    LOG.log(
        System.Logger.Level.WARNING,
        "ModelStreamInfer call reset after {0} messages: the client read nothing for {1} ms",
        messages,
        stallTimeout.toMillis());
    finish();
    if (http != null) {
      http.reset(GrpcError.RESOURCE_EXHAUSTED.http2ResetCode);
    } else {
      response
          .status(GrpcStatus.RESOURCE_EXHAUSTED)
          .statusMessage(
              "the client read no response for " + stallTimeout.toMillis() + " ms; stream closed")
          .end();
      vertx.setTimer(1000, t -> response.cancel());
    }
  }

  private void cancelStallTimer() {
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
  }

  // Drops whatever is still in flight (the work completes; its answers go nowhere).
  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    stats.held(-window.size());
    window.cancel();
    cancelStallTimer();
    stats.closed();
  }

  private void flow() {
    boolean read = !finished && !inputEnded && !window.full() && !response.writeQueueFull();
    if (read && paused) {
      paused = false;
      call.resume();
    } else if (!read && !paused) {
      paused = true;
      call.pause();
    }
  }
}
