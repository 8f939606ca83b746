package ai.distill.gateway.jobs;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.http.HttpStatusException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.concurrent.Callable;

/**
 * The jobs HTTP API on the gateway's router, all behind the admin token: {@code POST
 * /admin/v1/optimize} (202 {@code {"job": "<id>"}}), {@code GET /admin/v1/jobs} (newest first),
 * {@code GET /admin/v1/jobs/{id}} and {@code POST /admin/v1/jobs/{id}/cancel}. Errors go through
 * the router's failure handler as {@code {"error": ...}}. Handlers run on event loops; anything
 * that touches the disk runs on a worker ({@code executeBlocking}, unordered).
 *
 * <pre>{@code
 * JobRoutes jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();   // runner from gateway.config().jobs()
 * ...
 * jobs.close().await();   // before gateway.close()
 * }</pre>
 */
public final class JobRoutes {

  private final Vertx vertx;
  private final JobService service;

  JobRoutes(Vertx vertx, JobService service) {
    this.vertx = vertx;
    this.service = service;
  }

  /**
   * Starts the job service for a running gateway (configured by its {@code "jobs"} section) and
   * mounts the routes.
   */
  public static Future<JobRoutes> install(Gateway gateway, CanaryHook canary) {
    JobsConfig config = gateway.config().jobs();
    if (!gateway.config().stateDir().equals(gateway.config().store())) {
      config = config.withRecordsDir(gateway.config().stateDir().resolve("jobs"));
    }
    return install(gateway, config, JobRunner.create(config), canary);
  }

  /** As {@link #install(Gateway, CanaryHook)} with an explicit configuration and runner. */
  static Future<JobRoutes> install(
      Gateway gateway, JobsConfig config, JobRunner runner, CanaryHook canary) {
    JobService service =
        new JobService(
            gateway.store(),
            config,
            runner,
            canary,
            JobMetrics.register(gateway.registry()),
            Clock.systemUTC());
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
              JobRoutes routes = new JobRoutes(gateway.vertx(), s);
              routes.mount(gateway.router(), gateway.adminAuth());
              return routes;
            });
  }

  public JobService service() {
    return service;
  }

  /**
   * Mounts the routes (the router must already parse bodies and map failures, as the gateway's
   * does).
   */
  public void mount(Router router, Handler<RoutingContext> adminAuth) {
    router.post("/admin/v1/optimize").handler(adminAuth).handler(this::optimize);
    router.get("/admin/v1/jobs").handler(adminAuth).handler(this::list);
    router.get("/admin/v1/jobs/:id").handler(adminAuth).handler(this::show);
    router.post("/admin/v1/jobs/:id/cancel").handler(adminAuth).handler(this::cancel);
  }

  /** Stops the service: the running job ends interrupted, queued ones too. */
  public Future<Void> close() {
    return vertx.executeBlocking(
        () -> {
          service.close();
          return null;
        },
        false);
  }

  private void optimize(RoutingContext ctx) {
    JobSpec spec;
    try {
      spec = JobSpec.fromJson(jsonBody(ctx));
    } catch (IllegalArgumentException e) {
      fail(ctx, e);
      return;
    }
    blocking(ctx, () -> service.submit(spec))
        .onSuccess(
            r -> {
              ctx.response().putHeader(HttpHeaders.LOCATION, "/admin/v1/jobs/" + r.id());
              send(ctx, 202, new JsonObject().put("job", r.id()));
            });
  }

  private void list(RoutingContext ctx) {
    JsonArray jobs = new JsonArray();
    for (JobRecord r : service.list()) {
      jobs.add(r.toJson());
    }
    send(ctx, 200, new JsonObject().put("jobs", jobs));
  }

  private void show(RoutingContext ctx) {
    try {
      send(ctx, 200, service.get(ctx.pathParam("id")).toJson());
    } catch (RuntimeException e) {
      fail(ctx, e);
    }
  }

  private void cancel(RoutingContext ctx) {
    blocking(ctx, () -> service.cancel(ctx.pathParam("id")))
        .onSuccess(r -> send(ctx, r.state().isFinal() ? 200 : 202, r.toJson()));
  }

  private <T> Future<T> blocking(RoutingContext ctx, Callable<T> work) {
    return vertx.executeBlocking(work, false).onFailure(e -> fail(ctx, e));
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body == null) {
        throw new DecodeException("empty body");
      }
      return body;
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException(
          "body: not a JSON object ("
              + e.getMessage()
              + "); send Content-Type: application/json and a body like "
              + JobSpec.EXAMPLE);
    }
  }

  private static void fail(RoutingContext ctx, Throwable e) {
    Throwable mapped = e;
    if (e instanceof JobRejectedException r) {
      if (r.reason() == JobRejectedException.Reason.QUEUE_FULL) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "30");
      }
      mapped = new HttpStatusException(r.reason().status(), r.getMessage());
    } else if (e instanceof IllegalArgumentException) {
      mapped = new HttpStatusException(400, e.getMessage());
    }
    ctx.fail(mapped);
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.toBuffer());
  }
}
