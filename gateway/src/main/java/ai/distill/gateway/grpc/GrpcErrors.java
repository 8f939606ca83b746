package ai.distill.gateway.grpc;

import ai.distill.gateway.http.FailureHandler;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;

/**
 * Maps the gateway's exceptions to gRPC statuses through the HTTP status the router would answer,
 * so both transports agree: 400 → INVALID_ARGUMENT, 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED,
 * 404 → NOT_FOUND, 409 → ALREADY_EXISTS, 413/429 → RESOURCE_EXHAUSTED, 503 → UNAVAILABLE, anything
 * else → INTERNAL. Stateless.
 */
final class GrpcErrors {

  private GrpcErrors() {}

  static GrpcStatus status(Throwable e) {
    return switch (FailureHandler.status(e)) {
      case 400 -> GrpcStatus.INVALID_ARGUMENT;
      case 401 -> GrpcStatus.UNAUTHENTICATED;
      case 403 -> GrpcStatus.PERMISSION_DENIED;
      case 404 -> GrpcStatus.NOT_FOUND;
      case 409 -> GrpcStatus.ALREADY_EXISTS;
      case 413, 429 -> GrpcStatus.RESOURCE_EXHAUSTED;
      case 503 -> GrpcStatus.UNAVAILABLE;
      default -> GrpcStatus.INTERNAL;
    };
  }

  static String message(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** Ends the call with the status and message for {@code e}. */
  static void fail(GrpcServerResponse<?, ?> response, Throwable e) {
    response.status(status(e)).statusMessage(message(e)).end();
  }

  /** Ends the call with {@code status} and {@code message}. */
  static void fail(GrpcServerResponse<?, ?> response, GrpcStatus status, String message) {
    response.status(status).statusMessage(message).end();
  }
}
