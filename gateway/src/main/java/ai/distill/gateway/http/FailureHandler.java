package ai.distill.gateway.http;

import ai.distill.gateway.batching.BatcherClosedException;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.experiment.ExperimentConflictException;
import ai.distill.gateway.experiment.UnknownVariantException;
import ai.distill.gateway.feedback.AmbiguousResponseException;
import ai.distill.gateway.feedback.FeedbackExpiredException;
import ai.distill.gateway.feedback.UnknownResponseException;
import ai.distill.gateway.logging.RequestIdHandler;
import ai.distill.gateway.metrics.GatewayMetrics.Outcome;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelFaultException;
import ai.distill.gateway.runtime.ModelLoadException;
import ai.distill.gateway.runtime.ModelRunException;
import ai.distill.gateway.runtime.ModelUnavailableException;
import ai.distill.gateway.runtime.UnknownModelException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

/**
 * The router's one failure handler: maps exception types to HTTP statuses and answers {@code
 * {"error": "..."}}. Only unexpected exceptions (bugs, broken invariants such as a plain {@link
 * IllegalStateException}) become 500, and are logged. Stateless and thread-safe.
 */
public final class FailureHandler implements Handler<RoutingContext> {

  private static final System.Logger LOG = System.getLogger(FailureHandler.class.getName());

  private final long maxBodyBytes;

  public FailureHandler(long maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  /** The HTTP status for {@code failure}. */
  public static int status(Throwable failure) {
    if (failure instanceof BadInputException e) {
      return e.status();
    } else if (failure instanceof HttpStatusException e) {
      return e.status();
    } else if (failure instanceof HttpException e) {
      return e.getStatusCode();
    } else if (failure instanceof UnknownModelException
        || failure instanceof UnknownVariantException
        || failure instanceof UnknownResponseException) {
      return 404;
    } else if (failure instanceof ExperimentConflictException
        || failure instanceof AmbiguousResponseException) {
      return 409;
    } else if (failure instanceof FeedbackExpiredException) {
      return 410;
    } else if (failure instanceof QueueFullException) {
      return 429;
    } else if (failure instanceof BatcherClosedException
        || failure instanceof ModelUnavailableException) {
      return 503;
    } else if (failure instanceof ModelFaultException e) {
      return e.status();
    } else if (failure instanceof ModelRunException e) {
      return e.invalidInput() ? 400 : 500;
    } else if (failure instanceof ModelLoadException) {
      return 400;
    } else if (failure instanceof IllegalArgumentException) {
      return 400;
    } else if (isBodyDecoding(failure)) {
      return 400;
    }
    return 500;
  }

  // Netty's body decoders (form, multipart, chunked framing) throw from io.netty.handler.codec.*:
  // the client sent a body we cannot read, never a server bug.
  private static boolean isBodyDecoding(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String name = t.getClass().getName();
      if (name.startsWith("io.netty.handler.codec.")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** The {@code outcome} metric label for a status. */
  public static Outcome outcome(int status) {
    return switch (status) {
      case 200 -> Outcome.OK;
      case 404 -> Outcome.NOT_FOUND;
      case 429 -> Outcome.QUEUE_FULL;
      case 503 -> Outcome.UNAVAILABLE;
      default -> status >= 400 && status < 500 ? Outcome.BAD_REQUEST : Outcome.ERROR;
    };
  }

  @Override
  public void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof io.vertx.core.http.HttpClosedException) {
      return; // the client closed the connection (or was cut off): nobody to answer, no fault here
    }
    int status = failure == null ? ctx.statusCode() : status(failure);
    if (status == 500 && failure != null && ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      status = ctx.statusCode(); // a handler already classified it as the client's fault
    }
    if (status < 400) {
      status = 500;
    }
    String message;
    if (status == 413 && !(failure instanceof HttpStatusException)) {
      message =
          "request body exceeds the limit of "
              + maxBodyBytes
              + " bytes: send fewer rows per request or raise max_body_bytes";
    } else if (failure == null) {
      message =
          switch (status) {
            case 404 -> "no such endpoint: " + ctx.request().method() + " " + ctx.request().path();
            case 405 ->
                "method " + ctx.request().method() + " is not allowed on " + ctx.request().path();
            default -> "request failed with status " + status;
          };
    } else if (isBodyDecoding(failure)) {
      message =
          "request body could not be read ("
              + failure
              + "): send the JSON (or JSON + binary tensor) body as-is, e.g. with "
              + "Content-Type: application/json";
    } else if (status == 500) {
      RequestIdHandler.withMdc(
          ctx,
          () ->
              LOG.log(
                  System.Logger.Level.ERROR,
                  "internal error on " + ctx.request().method() + " " + ctx.request().path(),
                  failure));
      message = "internal error: " + failure;
    } else {
      message = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    }
    HttpServerResponse response = ctx.response();
    if (response.headWritten() || response.closed()) {
      return;
    }
    if (failure instanceof QueueFullException q) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(q.retryAfterSeconds()));
    } else if (failure instanceof ModelFaultException f && status == 503) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(f.retryAfterSeconds()));
    } else if (status == 503) {
      response.putHeader(HttpHeaders.RETRY_AFTER, "1");
    }
    response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    // Refused before its body was read (413 on Content-Length, an unknown stream target): the
    // unread rest of the body must never be parsed as the next request on this connection.
    boolean unread = !ctx.request().isEnded();
    if (unread) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    response
        .end(new JsonObject().put("error", message).toBuffer())
        .onComplete(
            ar -> {
              if (unread) {
                ctx.request().connection().close();
              }
            });
  }
}
