package ai.distill.gateway.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * The JSON object bodies of the admin and feedback APIs: reading one (a body that is not a JSON
 * object fails the request with 400 through the {@link FailureHandler}) and answering one.
 * Stateless.
 */
public final class JsonBodies {

  private JsonBodies() {}

  /** The body as a JSON object, or null after failing the request (400). */
  public static JsonObject read(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body == null) {
        throw new DecodeException("empty body");
      }
      return body;
    } catch (DecodeException | ClassCastException e) {
      ctx.fail(
          new IllegalArgumentException(
              "body: not a JSON object ("
                  + e.getMessage()
                  + "); send Content-Type: application/json and a JSON object"));
      return null;
    }
  }

  /** Answers {@code body} with {@code status}. */
  public static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.toBuffer());
  }
}
