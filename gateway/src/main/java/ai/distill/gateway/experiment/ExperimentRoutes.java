package ai.distill.gateway.experiment;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.http.HttpStatusException;
import ai.distill.gateway.http.JsonBodies;
import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The experiment HTTP API on the gateway's router, the infer-routing hook that serves {@code
 * /v2/models/{experiment}/infer}, and the timers that evaluate (every second) and persist (every 30
 * s, and on close) the experiments and the pending impressions. All disk work runs on workers; the
 * saves of one experiment are serialized and coalesced by {@link ExperimentRepository}, whichever
 * timer or admin action asks for them.
 *
 * <pre>{@code
 * FeedbackRoutes feedback = FeedbackRoutes.install(gateway, FeedbackService.DEFAULT_MAX_ENTRIES);
 * CaptureRoutes capture = CaptureRoutes.install(gateway, CaptureService.Options.DEFAULT, feedback.service());
 * ExperimentRoutes experiments = ExperimentRoutes.install(gateway, ExperimentService.Options.DEFAULT,
 *     feedback.service(), capture.service()).await();
 * ...
 * experiments.close().await();   // then capture.close(), then gateway.close()
 * }</pre>
 *
 * <p>Routes: {@code POST /admin/v1/experiments}, {@code POST
 * /admin/v1/experiments/{e}/promote|rollback|stop} (admin token), {@code GET /v1/experiments},
 * {@code GET /v1/experiments/{e}}. Failures go to the router's failure handler, which maps them to
 * statuses. Handlers run on event loops; anything touching the disk runs on a worker.
 */
public final class ExperimentRoutes {

  private static final System.Logger LOG = System.getLogger(ExperimentRoutes.class.getName());
  static final long EVALUATE_MILLIS = 1_000;
  static final long SNAPSHOT_MILLIS = 30_000;

  /** The keys a promote, rollback or stop body may hold. */
  static final List<String> DECISION_KEYS = List.of("model", "reason");

  private final Vertx vertx;
  private final ExperimentService service;
  private final AtomicBoolean evaluating = new AtomicBoolean();
  private final AtomicBoolean snapshotting = new AtomicBoolean();
  private long evaluateTimer = -1;
  private long snapshotTimer = -1;
  private final InferTargetResolver resolver =
      new InferTargetResolver() {
        @Override
        public Optional<Route> resolve(String name, RoutingContext context) {
          return ExperimentRoutes.this.resolve(name, context);
        }
      };

  ExperimentRoutes(Vertx vertx, ExperimentService service) {
    this.vertx = vertx;
    this.service = service;
  }

  /**
   * Builds the engine for a running gateway: restores persisted experiments, mounts the routes,
   * registers the infer hook and starts the timers.
   */
  public static Future<ExperimentRoutes> install(
      Gateway gateway,
      ExperimentService.Options options,
      FeedbackService feedback,
      CaptureService capture) {
    Vertx vertx = gateway.vertx();
    ExperimentService service =
        new ExperimentService(
            new RegistryInvoker(gateway.models(), gateway.store()),
            gateway.config().stateDir(),
            command -> vertx.runOnContext(v -> command.run()),
            options,
            ExperimentMetrics.register(gateway.registry()),
            feedback,
            capture);
    return vertx
        .executeBlocking(
            () -> {
              service.start();
              Path shared = gateway.config().store();
              if (!gateway.config().stateDir().equals(shared)) {
                createShared(service, shared.resolve("experiments"));
              }
              return service;
            },
            false)
        .map(
            s -> {
              ExperimentRoutes routes = new ExperimentRoutes(vertx, s);
              routes.mount(gateway.router(), gateway.adminAuth());
              gateway.addTargetResolver(routes.resolver);
              routes.startTimers();
              return routes;
            });
  }

  public ExperimentService service() {
    return service;
  }

  // The experiments defined in the shared store that this instance does not run yet: created.
  private static void createShared(ExperimentService service, Path dir) {
    List<String> errors = new java.util.ArrayList<>();
    for (ExperimentDefinition d : ExperimentRepository.definitionsIn(dir, errors)) {
      if (!service.isExperiment(d.name())) {
        try {
          service.create(d);
        } catch (RuntimeException e) {
          errors.add(d.name() + ": " + e.getMessage());
        }
      }
    }
    errors.forEach(
        e -> LOG.log(System.Logger.Level.WARNING, "shared experiment not created: {0}", e));
  }

  /** The hook that routes infer requests for experiment names. */
  public InferTargetResolver resolver() {
    return resolver;
  }

  /**
   * Mounts the routes (the router must already parse bodies and map failures, as the gateway's
   * does).
   */
  public void mount(Router router, Handler<RoutingContext> adminAuth) {
    router.post("/admin/v1/experiments").handler(adminAuth).handler(this::create);
    router
        .post("/admin/v1/experiments/:experiment/:action")
        .handler(adminAuth)
        .handler(this::decide);
    router.get("/v1/experiments").handler(this::list);
    router.get("/v1/experiments/:experiment").handler(this::show);
  }

  void startTimers() {
    evaluateTimer =
        vertx.setPeriodic(
            EVALUATE_MILLIS,
            id -> {
              if (evaluating.compareAndSet(false, true)) {
                vertx
                    .executeBlocking(
                        () -> {
                          service.evaluateAll(System.currentTimeMillis());
                          return null;
                        },
                        false)
                    .onComplete(ar -> evaluating.set(false));
              }
            });
    snapshotTimer =
        vertx.setPeriodic(
            SNAPSHOT_MILLIS,
            id -> {
              if (snapshotting.compareAndSet(false, true)) {
                vertx
                    .executeBlocking(
                        () -> {
                          service.snapshot();
                          return null;
                        },
                        false)
                    .onComplete(ar -> snapshotting.set(false));
              }
            });
  }

  /** Stops the timers and persists every experiment. */
  public Future<Void> close() {
    vertx.cancelTimer(evaluateTimer);
    vertx.cancelTimer(snapshotTimer);
    return vertx.executeBlocking(
        () -> {
          service.close();
          return null;
        },
        false);
  }

  // ---- infer routing ---------------------------------------------------------------------------

  private Optional<InferTargetResolver.Route> resolve(String name, RoutingContext ctx) {
    if (!service.isExperiment(name)) {
      return Optional.empty();
    }
    Experiment e = service.get(name);
    return Optional.of(
        new InferTargetResolver.Route() {
          private ExperimentService.Selection selection;

          @Override
          public String signatureModel() {
            return e.definition().teacher();
          }

          @Override
          public Future<InferTargetResolver.Target> select(InferRequest request) {
            selection = service.select(name, request);
            Experiment.Assignment a = selection.assignment();
            return Future.succeededFuture(
                new InferTargetResolver.Target(a.model(), a.version(), a.model()));
          }

          @Override
          public String responseId(
              InferRequest request, InferTargetResolver.Target target, long version) {
            return selection == null ? null : service.responseId(selection, request, version);
          }

          @Override
          public void completed(
              InferRequest request,
              InferTargetResolver.Target target,
              InferResult result,
              Throwable failure) {
            if (selection == null) {
              return;
            }
            if (result != null) {
              service.completed(
                  selection,
                  request,
                  result.id(),
                  result.version(),
                  result.outputs(),
                  result.latencyNanos(),
                  result.queueNanos() + result.computeNanos(),
                  null);
            } else {
              service.completed(selection, request, null, -1, null, 0, 0, failure);
            }
          }
        });
  }

  // ---- handlers --------------------------------------------------------------------------------

  private void create(RoutingContext ctx) {
    JsonObject body = JsonBodies.read(ctx);
    if (body == null) {
      return;
    }
    ExperimentDefinition def;
    try {
      def = ExperimentJson.definition(body);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    blocking(ctx, () -> service.create(def))
        .onSuccess(e -> JsonBodies.send(ctx, 201, ExperimentJson.view(e)));
  }

  private void decide(RoutingContext ctx) {
    String name = ctx.pathParam("experiment");
    String action = ctx.pathParam("action");
    try {
      service.get(name); // 404 for an unknown experiment, before any complaint about the body
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    DecisionKind kind =
        DecisionKind.MANUAL.stream().filter(k -> k.label().equals(action)).findFirst().orElse(null);
    if (kind == null) {
      ctx.fail(
          new HttpStatusException(
              404, "no such action '" + action + "' (expected: promote, rollback or stop)"));
      return;
    }
    // No body at all (length -1), an empty one (-d '') and blank ones all mean "no model, no
    // reason".
    JsonObject body = isBlank(ctx) ? new JsonObject() : JsonBodies.read(ctx);
    if (body == null) {
      return;
    }
    for (String key : body.fieldNames()) {
      if (!DECISION_KEYS.contains(key)) {
        ctx.fail(
            new IllegalArgumentException(
                "body: unknown key '"
                    + key
                    + "' (accepted keys: "
                    + String.join(", ", DECISION_KEYS)
                    + ", e.g. {\"model\": \"ctr-int8\", \"reason\": "
                    + "\"looks good\"}; 'model' names a student of the experiment)"));
        return;
      }
    }
    if (kind == DecisionKind.STOP && body.getValue("model") != null) {
      ctx.fail(
          new IllegalArgumentException(
              "body: 'model' does not apply to stop (accepted keys: reason)"));
      return;
    }
    Object model = body.getValue("model");
    Object reason = body.getValue("reason");
    if ((model != null && !(model instanceof String))
        || (reason != null && !(reason instanceof String))) {
      ctx.fail(
          new IllegalArgumentException(
              "body: 'model' and 'reason' must be strings, e.g. "
                  + "{\"model\": \"ctr-int8\", \"reason\": \"looks good\"}"));
      return;
    }
    Callable<Object> work =
        switch (kind) {
          case PROMOTE -> () -> service.promote(name, (String) model, (String) reason);
          case ROLLBACK -> () -> service.rollback(name, (String) model, (String) reason);
          default -> () -> service.stop(name, (String) reason);
        };
    blocking(ctx, work)
        .onSuccess(ignored -> JsonBodies.send(ctx, 200, ExperimentJson.view(service.get(name))));
  }

  private void list(RoutingContext ctx) {
    JsonArray all = new JsonArray();
    for (Experiment e : service.list()) {
      all.add(ExperimentJson.view(e));
    }
    JsonBodies.send(ctx, 200, new JsonObject().put("experiments", all));
  }

  private void show(RoutingContext ctx) {
    try {
      JsonBodies.send(ctx, 200, ExperimentJson.view(service.get(ctx.pathParam("experiment"))));
    } catch (RuntimeException e) {
      ctx.fail(e);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private <T> Future<T> blocking(RoutingContext ctx, Callable<T> work) {
    return vertx.executeBlocking(work, false).onFailure(e -> ctx.fail(e));
  }

  private static boolean isBlank(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    return body == null || body.length() == 0 || body.toString(StandardCharsets.UTF_8).isBlank();
  }
}
