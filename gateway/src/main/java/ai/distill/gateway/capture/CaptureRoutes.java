package ai.distill.gateway.capture;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.http.JsonBodies;
import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * The capture API on the gateway's router ({@code POST /admin/v1/capture {"model", "rate"}} behind
 * the admin token, {@code GET /v1/capture}) and the hook that observes every plain model response
 * for capture. Handlers run on event loops; closing runs on a worker.
 *
 * <pre>{@code
 * CaptureRoutes capture = CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
 * ...
 * capture.close().await();   // after the experiments, before gateway.close()
 * }</pre>
 */
public final class CaptureRoutes {

  private final Vertx vertx;
  private final CaptureService service;
  private final InferTargetResolver observer =
      new InferTargetResolver() {
        @Override
        public Optional<Route> resolve(String name, RoutingContext context) {
          return Optional.empty();
        }

        @Override
        public void servedModel(InferRequest request, InferResult result) {
          service.servedModel(
              result.model(), result.version(), result.id(), request, result.outputs());
        }
      };

  CaptureRoutes(Vertx vertx, CaptureService service) {
    this.vertx = vertx;
    this.service = service;
  }

  /**
   * Builds the service under the gateway's store, starts its writer, mounts the routes and the
   * observer.
   */
  public static CaptureRoutes install(
      Gateway gateway, CaptureService.Options options, FeedbackService feedback) {
    CaptureService service =
        new CaptureService(
            gateway.config().stateDir(),
            options,
            CaptureMetrics.register(gateway.registry()),
            feedback);
    service.start();
    CaptureRoutes routes = new CaptureRoutes(gateway.vertx(), service);
    routes.mount(gateway.router(), gateway.adminAuth());
    gateway.addTargetResolver(routes.observer);
    return routes;
  }

  public CaptureService service() {
    return service;
  }

  /**
   * Mounts the routes (the router must already parse bodies and map failures, as the gateway's
   * does).
   */
  public void mount(Router router, Handler<RoutingContext> adminAuth) {
    router.post("/admin/v1/capture").handler(adminAuth).handler(this::captureRate);
    router.get("/v1/capture").handler(ctx -> JsonBodies.send(ctx, 200, json()));
  }

  /** Flushes the capture (pending rows are written unlabelled) and stops its writer. */
  public Future<Void> close() {
    return vertx.executeBlocking(
        () -> {
          service.close();
          return null;
        },
        false);
  }

  private void captureRate(RoutingContext ctx) {
    JsonObject body = JsonBodies.read(ctx);
    if (body == null) {
      return;
    }
    Object model = body.getValue("model");
    Object rate = body.getValue("rate");
    if (!(model instanceof String m) || m.isEmpty() || !(rate instanceof Number r)) {
      ctx.fail(
          new IllegalArgumentException(
              "body: expected {\"model\": \"<model name>\", \"rate\": <share 0..1>}, "
                  + "received "
                  + body.encode()));
      return;
    }
    try {
      service.captureRate(m, r.doubleValue());
    } catch (IllegalArgumentException e) {
      ctx.fail(e);
      return;
    }
    JsonBodies.send(ctx, 200, json());
  }

  private JsonObject json() {
    JsonObject rates = new JsonObject();
    service.captureRates().forEach(rates::put);
    JsonObject o = new JsonObject().put("models", rates);
    TrafficCapture capture = service.capture();
    if (capture != null) {
      o.put("written_rows", capture.writer().writtenRows())
          .put("dropped", capture.writer().dropped())
          .put("pending_labels", capture.pending());
    }
    return o;
  }
}
