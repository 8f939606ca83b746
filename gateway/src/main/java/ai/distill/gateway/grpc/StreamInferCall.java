package ai.distill.gateway.grpc;

import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import ai.distill.gateway.stream.OrderedWindow;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
 * control does the rest), so memory stays bounded for any stream length; a client that stops
 * reading for {@code stallTimeout} gets RESOURCE_EXHAUSTED. Runs on one event loop; not
 * thread-safe.
 */
final class StreamInferCall {

  private final Vertx vertx;
  private final GrpcServerRequest<Buffer, ModelStreamInferResponse> call;
  private final GrpcServerResponse<Buffer, ModelStreamInferResponse> response;
  private final GrpcInferenceService service;
  private final OrderedWindow<ModelStreamInferResponse> window;
  private final Duration stallTimeout;
  private long messages;
  private boolean paused;
  private boolean inputEnded;
  private boolean finished;
  private long stallTimer = -1;

  StreamInferCall(
      Vertx vertx,
      GrpcServerRequest<Buffer, ModelStreamInferResponse> call,
      GrpcInferenceService service,
      int inFlight,
      Duration stallTimeout) {
    this.vertx = vertx;
    this.call = call;
    this.response = call.response();
    this.service = service;
    this.stallTimeout = stallTimeout;
    this.window = new OrderedWindow<>(inFlight, this::write);
  }

  void start() {
    call.handler(this::message);
    call.endHandler(v -> inputEnded());
    call.exceptionHandler(e -> abort());
    response.exceptionHandler(e -> abort());
    response.drainHandler(v -> drained());
  }

  private void message(Buffer body) {
    if (finished) {
      return;
    }
    long index = messages++;
    window.add(serve(body, index));
    flow();
  }

  // Never fails: a failure becomes the message's error response.
  private Future<ModelStreamInferResponse> serve(Buffer body, long index) {
    long start = System.nanoTime();
    ModelInferRequest request;
    try {
      request = GrpcInferenceService.parse(body);
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
      finished = true;
      cancelStallTimer();
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
                window.cancel();
                finished = true;
                response
                    .status(GrpcStatus.RESOURCE_EXHAUSTED)
                    .statusMessage(
                        "the client read no response for "
                            + stallTimeout.toMillis()
                            + " ms; the stream was closed")
                    .end();
                vertx.setTimer(1000, t -> response.cancel());
              }
            });
  }

  private void cancelStallTimer() {
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
  }

  private void abort() {
    if (!finished) {
      finished = true;
      window.cancel();
      cancelStallTimer();
    }
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
