package ai.distill.gateway.loop;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.http.HttpStatusException;
import ai.distill.gateway.http.JsonBodies;
import ai.distill.gateway.jobs.JobService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The closed loop on a running gateway: the {@link PolicyService} of the config's {@code
 * "policies"}, ticked every second off the event loops, and its admin API (behind the admin token):
 * {@code GET /admin/v1/policies} (each policy with its last drift and action), {@code POST
 * /admin/v1/policies} (add or replace one model's policy; 201) and {@code DELETE
 * /admin/v1/policies/{model}}.
 *
 * <pre>{@code
 * LoopRoutes loop = LoopRoutes.install(gateway, jobs.service()).await();
 * ...
 * loop.close();   // before the job service closes
 * }</pre>
 */
public final class LoopRoutes {

  private static final System.Logger LOG = System.getLogger(LoopRoutes.class.getName());

  private final Vertx vertx;
  private final PolicyService service;
  private final AtomicBoolean ticking = new AtomicBoolean();
  private final long timer;

  private LoopRoutes(Vertx vertx, PolicyService service, long tickMillis) {
    this.vertx = vertx;
    this.service = service;
    this.timer = vertx.setPeriodic(tickMillis, id -> tick());
  }

  /** Starts the policies of the gateway's config and mounts the routes. */
  public static Future<LoopRoutes> install(Gateway gateway, JobService jobs) {
    return install(gateway, jobs, 1_000);
  }

  static Future<LoopRoutes> install(Gateway gateway, JobService jobs, long tickMillis) {
    List<RecalibrationPolicy> configured = new ArrayList<>();
    JsonArray raw = gateway.config().policies();
    try {
      for (int i = 0; i < raw.size(); i++) {
        configured.add(RecalibrationPolicy.fromJson(raw.getJsonObject(i)));
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(new IllegalArgumentException("policies: " + e.getMessage(), e));
    }
    PolicyService service =
        new PolicyService(
            gateway.store(),
            jobs,
            new DriftMonitor(gateway.store(), gateway.registry()),
            gateway.registry(),
            configured,
            System::currentTimeMillis);
    return gateway
        .vertx()
        .executeBlocking(
            () -> {
              service.start();
              return service;
            },
            false)
        .map(
            s -> {
              LoopRoutes routes = new LoopRoutes(gateway.vertx(), s, tickMillis);
              Router router = gateway.router();
              router.get("/admin/v1/policies").handler(gateway.adminAuth()).handler(routes::list);
              router.post("/admin/v1/policies").handler(gateway.adminAuth()).handler(routes::put);
              router
                  .delete("/admin/v1/policies/:model")
                  .handler(gateway.adminAuth())
                  .handler(routes::remove);
              return routes;
            });
  }

  public PolicyService service() {
    return service;
  }

  /** Stops the timer. */
  public void close() {
    vertx.cancelTimer(timer);
  }

  private void tick() {
    if (!ticking.compareAndSet(false, true)) {
      return; // the last check is still running: never two at once
    }
    vertx
        .executeBlocking(
            () -> {
              service.tick();
              return null;
            },
            false)
        .onComplete(
            ar -> {
              ticking.set(false);
              if (ar.failed()) {
                LOG.log(System.Logger.Level.WARNING, "policy check failed", ar.cause());
              }
            });
  }

  private void list(RoutingContext ctx) {
    JsonBodies.send(ctx, 200, new JsonObject().put("policies", service.list()));
  }

  private void put(RoutingContext ctx) {
    JsonObject body = JsonBodies.read(ctx);
    if (body == null) {
      return;
    }
    RecalibrationPolicy policy;
    try {
      policy = RecalibrationPolicy.fromJson(body);
    } catch (IllegalArgumentException e) {
      ctx.fail(new HttpStatusException(400, e.getMessage()));
      return;
    }
    vertx
        .executeBlocking(() -> service.put(policy), false)
        .onSuccess(view -> JsonBodies.send(ctx, 201, view))
        .onFailure(ctx::fail);
  }

  private void remove(RoutingContext ctx) {
    String model = ctx.pathParam("model");
    vertx
        .executeBlocking(() -> service.remove(model), false)
        .onSuccess(
            removed -> {
              if (removed) {
                ctx.response().setStatusCode(204).end();
              } else {
                ctx.fail(
                    new HttpStatusException(
                        404,
                        "model '" + model + "' has no policy (GET /admin/v1/policies lists them)"));
              }
            })
        .onFailure(ctx::fail);
  }
}
