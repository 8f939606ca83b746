package ai.distill.gateway.feedback;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.http.JsonBodies;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /v1/feedback {"id", "clicks"}} on the gateway's router: joined or duplicate → 200
 * with a summary; the other outcomes fail the request with a typed exception the router's failure
 * handler maps (unknown 404, expired 410, ambiguous 409, wrong number of clicks 400). Runs on event
 * loops; never blocks.
 *
 * <pre>{@code
 * FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
 * }</pre>
 */
public final class FeedbackRoutes {

  private final FeedbackService service;

  public FeedbackRoutes(FeedbackService service) {
    this.service = service;
  }

  /** Builds the service with the gateway's metrics and mounts the route. */
  public static FeedbackRoutes install(Gateway gateway, int maxEntries) {
    return install(gateway, maxEntries, null);
  }

  /**
   * Builds the service with the gateway's metrics and the response-id key {@code feedbackKey}
   * (null: {@code DISTILL_FEEDBACK_KEY}, else {@code <store>/feedback.key}, see {@link
   * FeedbackKeys}) and mounts the route.
   */
  public static FeedbackRoutes install(Gateway gateway, int maxEntries, String feedbackKey) {
    FeedbackRoutes routes =
        new FeedbackRoutes(
            new FeedbackService(
                maxEntries,
                FeedbackMetrics.register(gateway.registry()),
                FeedbackKeys.resolve(feedbackKey, gateway.config().store())));
    routes.mount(gateway.router());
    return routes;
  }

  public FeedbackService service() {
    return service;
  }

  /**
   * Mounts the route (the router must already parse bodies and map failures, as the gateway's
   * does).
   */
  public void mount(Router router) {
    router.post("/v1/feedback").handler(this::feedback);
  }

  private void feedback(RoutingContext ctx) {
    JsonObject body = JsonBodies.read(ctx);
    if (body == null) {
      return;
    }
    Object id = body.getValue("id");
    Object rawClicks = body.getValue("clicks");
    if (!(id instanceof String sid) || sid.isEmpty()) {
      ctx.fail(
          new IllegalArgumentException(
              "id: "
                  + (id == null ? "missing" : id)
                  + " (expected: the 'id' of an inference response, as a string)"));
      return;
    }
    if (!(rawClicks instanceof JsonArray array)) {
      ctx.fail(
          new IllegalArgumentException(
              "clicks: "
                  + (rawClicks == null ? "missing" : rawClicks)
                  + " (expected: an array with one 0 or 1 per row of the response, e.g. [0, 1, 0])"));
      return;
    }
    int[] clicks = new int[array.size()];
    for (int i = 0; i < clicks.length; i++) {
      Object c = array.getValue(i);
      if (c instanceof Boolean b) {
        clicks[i] = b ? 1 : 0;
      } else if (c instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) {
        clicks[i] = n.intValue();
      } else {
        ctx.fail(new IllegalArgumentException("clicks[" + i + "]: " + c + " (expected: 0 or 1)"));
        return;
      }
    }
    FeedbackOutcome o = service.feedback(sid, clicks);
    if (o instanceof FeedbackOutcome.Joined j) {
      JsonBodies.send(ctx, 200, summary("joined", sid, j.impression(), clicks));
    } else if (o instanceof FeedbackOutcome.Duplicate d) {
      JsonBodies.send(ctx, 200, summary("duplicate", sid, d.impression(), clicks));
    } else if (o instanceof FeedbackOutcome.Unknown) {
      ctx.fail(
          new UnknownResponseException(
              "id: response '"
                  + sid
                  + "' is unknown (expected: the id of a response served within its attribution window)"));
    } else if (o instanceof FeedbackOutcome.Expired x) {
      ctx.fail(
          new FeedbackExpiredException(
              "id: response '"
                  + sid
                  + "' is past its attribution window by "
                  + (x.lateByMillis() / 1000.0)
                  + " s (expected: feedback within the window; raise "
                  + "attribution_window_seconds to accept later clicks)"));
    } else if (o instanceof FeedbackOutcome.Ambiguous a) {
      ctx.fail(
          new AmbiguousResponseException(
              "id: '"
                  + sid
                  + "' is the id of "
                  + a.servings()
                  + " different live responses (clients reused a request id), so the clicks cannot be "
                  + "attributed (expected: a unique 'id' per inference request, or none and the gateway "
                  + "generates one)"));
    } else if (o instanceof FeedbackOutcome.WrongCount w) {
      ctx.fail(
          new IllegalArgumentException(
              "clicks: expected "
                  + w.impression().rows()
                  + " values (one per row of response '"
                  + sid
                  + "'), received "
                  + w.received()));
    }
  }

  private static JsonObject summary(String status, String id, Impression i, int[] clicks) {
    int sum = 0;
    for (int c : clicks) {
      sum += c;
    }
    return new JsonObject()
        .put("status", status)
        .put("id", id)
        .put("experiment", i.experiment())
        .put("variant", i.model())
        .put("rows", i.rows())
        .put("clicks", sum);
  }
}
