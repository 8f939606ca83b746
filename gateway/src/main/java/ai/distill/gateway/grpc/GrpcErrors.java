package ai.distill.gateway.grpc;

import ai.distill.gateway.http.FailureHandler;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.StatusException;

/**
 * Maps the gateway's exceptions to gRPC statuses through the HTTP status the router would answer,
 * so both transports agree: 400 → INVALID_ARGUMENT, 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED,
 * 404 → NOT_FOUND, 409 → ALREADY_EXISTS, 410 → FAILED_PRECONDITION, 413/429 → RESOURCE_EXHAUSTED,
 * 501 → UNIMPLEMENTED, 503 (not ready, circuit open) → UNAVAILABLE, 504 (the model's timeout) →
 * DEADLINE_EXCEEDED; 502 (the model produced an invalid output) and anything else → INTERNAL, with
 * a message saying which. Stateless.
 */
final class GrpcErrors {

  private GrpcErrors() {}

  static GrpcStatus status(Throwable e) {
    return status(FailureHandler.status(e));
  }

  static GrpcStatus status(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> GrpcStatus.INVALID_ARGUMENT;
      case 401 -> GrpcStatus.UNAUTHENTICATED;
      case 403 -> GrpcStatus.PERMISSION_DENIED;
      case 404 -> GrpcStatus.NOT_FOUND;
      case 409 -> GrpcStatus.ALREADY_EXISTS;
      case 410 -> GrpcStatus.FAILED_PRECONDITION;
      case 413, 429 -> GrpcStatus.RESOURCE_EXHAUSTED;
      case 501 -> GrpcStatus.UNIMPLEMENTED;
      case 503 -> GrpcStatus.UNAVAILABLE;
      case 504 -> GrpcStatus.DEADLINE_EXCEEDED;
      default -> GrpcStatus.INTERNAL;
    };
  }

  /** The status message: the exception's, saying what failed where INTERNAL alone would not. */
  static String message(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    return switch (FailureHandler.status(e)) {
      case 502 -> "bad model output: " + message;
      case 500 -> "internal error: " + message;
      default -> message;
    };
  }

  /** Ends the call with the status and message for {@code e} (a {@link StatusException}'s own). */
  static void fail(GrpcServerResponse<?, ?> response, Throwable e) {
    if (e instanceof StatusException s) {
      fail(response, s.status(), s.message());
      return;
    }
    response.status(status(e)).statusMessage(message(e)).end();
  }

  /** Ends the call with {@code status} and {@code message}. */
  static void fail(GrpcServerResponse<?, ?> response, GrpcStatus status, String message) {
    response.status(status).statusMessage(message).end();
  }
}
