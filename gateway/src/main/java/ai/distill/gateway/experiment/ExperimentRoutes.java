package ai.distill.gateway.experiment;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.capture.CaptureMetrics;
import ai.distill.gateway.feedback.FeedbackMetrics;
import ai.distill.gateway.feedback.FeedbackOutcome;
import ai.distill.gateway.http.HttpStatusException;
import ai.distill.gateway.protocol.InferRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The experiment HTTP API on the gateway's router, the infer-routing hook that serves
 * {@code /v2/models/{experiment}/infer}, and the timers that evaluate (every second) and persist
 * (every 30 s, and on close) the experiments.
 *
 * <pre>{@code
 * ExperimentRoutes experiments = ExperimentRoutes.install(gateway, ExperimentService.Options.DEFAULT).await();
 * ...
 * experiments.close().await();   // before gateway.close()
 * }</pre>
 *
 * <p>Routes: {@code POST /admin/v1/experiments}, {@code POST /admin/v1/experiments/{e}/promote|rollback|stop}
 * (admin token), {@code GET /v1/experiments}, {@code GET /v1/experiments/{e}}, {@code POST /v1/feedback}.
 * Handlers run on event loops; anything touching the disk runs on a worker.
 */
public final class ExperimentRoutes {

    static final long EVALUATE_MILLIS = 1_000;
    static final long SNAPSHOT_MILLIS = 30_000;
    /** The keys a promote, rollback or stop body may hold. */
    static final List<String> DECISION_KEYS = List.of("model", "reason");

    private final Vertx vertx;
    private final ExperimentService service;
    private final AtomicBoolean evaluating = new AtomicBoolean();
    private long evaluateTimer = -1;
    private long snapshotTimer = -1;
    private final InferTargetResolver resolver = new InferTargetResolver() {
        @Override
        public Optional<Route> resolve(String name, RoutingContext context) {
            return ExperimentRoutes.this.resolve(name, context);
        }

        @Override
        public void servedModel(InferRequest request, InferResult result) {
            service.observeModel(result.model(), result.version(), result.id(), request, result.outputs());
        }
    };

    ExperimentRoutes(Vertx vertx, ExperimentService service) {
        this.vertx = vertx;
        this.service = service;
    }

    /**
     * Builds the engine for a running gateway: restores persisted experiments, mounts the routes, registers
     * the infer hook and starts the timers.
     */
    public static Future<ExperimentRoutes> install(Gateway gateway, ExperimentService.Options options) {
        Vertx vertx = gateway.vertx();
        ExperimentService service = new ExperimentService(new RegistryInvoker(gateway.models(), gateway.store()),
                gateway.store().root(), command -> vertx.runOnContext(v -> command.run()), options,
                ExperimentMetrics.register(gateway.registry()), CaptureMetrics.register(gateway.registry()),
                FeedbackMetrics.register(gateway.registry()));
        return vertx.executeBlocking(() -> {
            service.start();
            return service;
        }, false).map(s -> {
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

    /** The hook that routes infer requests for experiment names. */
    public InferTargetResolver resolver() {
        return resolver;
    }

    /** Mounts the routes (the router must already parse bodies and map failures, as the gateway's does). */
    public void mount(Router router, Handler<RoutingContext> adminAuth) {
        router.post("/admin/v1/experiments").handler(adminAuth).handler(this::create);
        router.post("/admin/v1/experiments/:experiment/:action").handler(adminAuth).handler(this::decide);
        router.get("/v1/experiments").handler(this::list);
        router.get("/v1/experiments/:experiment").handler(this::show);
        router.post("/v1/feedback").handler(this::feedback);
        router.post("/admin/v1/capture").handler(adminAuth).handler(this::captureRate);
        router.get("/v1/capture").handler(ctx -> send(ctx, 200, captureJson()));
    }

    void startTimers() {
        evaluateTimer = vertx.setPeriodic(EVALUATE_MILLIS, id -> {
            if (evaluating.compareAndSet(false, true)) {
                vertx.executeBlocking(() -> {
                    service.evaluateAll();
                    return null;
                }, false).onComplete(ar -> evaluating.set(false));
            }
        });
        snapshotTimer = vertx.setPeriodic(SNAPSHOT_MILLIS, id -> vertx.executeBlocking(() -> {
            service.snapshot();
            return null;
        }, false));
    }

    /** Stops the timers, persists every experiment and flushes the capture. */
    public Future<Void> close() {
        vertx.cancelTimer(evaluateTimer);
        vertx.cancelTimer(snapshotTimer);
        return vertx.executeBlocking(() -> {
            service.close();
            return null;
        }, false);
    }

    // ---- infer routing ---------------------------------------------------------------------------

    private Optional<InferTargetResolver.Route> resolve(String name, RoutingContext ctx) {
        if (!service.isExperiment(name)) {
            return Optional.empty();
        }
        Experiment e = service.get(name);
        return Optional.of(new InferTargetResolver.Route() {
            private ExperimentService.Selection selection;

            @Override
            public String signatureModel() {
                return e.definition().teacher();
            }

            @Override
            public Future<InferTargetResolver.Target> select(InferRequest request) {
                selection = service.select(name, request);
                Experiment.Assignment a = selection.assignment();
                return Future.succeededFuture(new InferTargetResolver.Target(a.model(), a.version(), a.model()));
            }

            @Override
            public void completed(InferRequest request, InferTargetResolver.Target target, InferResult result,
                                  Throwable failure) {
                if (selection == null) {
                    return;
                }
                if (result != null) {
                    service.completed(selection, request, result.id(), result.version(), result.outputs(),
                            result.latencyNanos(), null);
                } else {
                    service.completed(selection, request, null, -1, null, 0, failure);
                }
            }
        });
    }

    // ---- handlers --------------------------------------------------------------------------------

    private void create(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        if (body == null) {
            return;
        }
        ExperimentDefinition def;
        try {
            def = ExperimentJson.definition(body);
        } catch (RuntimeException e) {
            fail(ctx, e);
            return;
        }
        blocking(ctx, () -> service.create(def)).onSuccess(e -> send(ctx, 201, ExperimentJson.view(e)));
    }

    private void decide(RoutingContext ctx) {
        String name = ctx.pathParam("experiment");
        String action = ctx.pathParam("action");
        try {
            service.get(name); // 404 for an unknown experiment, before any complaint about the body
        } catch (RuntimeException e) {
            fail(ctx, e);
            return;
        }
        DecisionKind kind = DecisionKind.MANUAL.stream().filter(k -> k.label().equals(action)).findFirst().orElse(null);
        if (kind == null) {
            fail(ctx, new HttpStatusException(404, "no such action '" + action + "' (expected: promote, rollback or stop)"));
            return;
        }
        // No body at all (length -1), an empty one (-d '') and blank ones all mean "no model, no reason".
        JsonObject body = isBlank(ctx) ? new JsonObject() : jsonBody(ctx);
        if (body == null) {
            return;
        }
        for (String key : body.fieldNames()) {
            if (!DECISION_KEYS.contains(key)) {
                fail(ctx, new IllegalArgumentException("body: unknown key '" + key + "' (accepted keys: "
                        + String.join(", ", DECISION_KEYS) + ", e.g. {\"model\": \"ctr-int8\", \"reason\": "
                        + "\"looks good\"}; 'model' names a student of the experiment)"));
                return;
            }
        }
        if (kind == DecisionKind.STOP && body.getValue("model") != null) {
            fail(ctx, new IllegalArgumentException("body: 'model' does not apply to stop (accepted keys: reason)"));
            return;
        }
        Object model = body.getValue("model");
        Object reason = body.getValue("reason");
        if ((model != null && !(model instanceof String)) || (reason != null && !(reason instanceof String))) {
            fail(ctx, new IllegalArgumentException("body: 'model' and 'reason' must be strings, e.g. "
                    + "{\"model\": \"ctr-int8\", \"reason\": \"looks good\"}"));
            return;
        }
        Callable<Object> work = switch (kind) {
            case PROMOTE -> () -> service.promote(name, (String) model, (String) reason);
            case ROLLBACK -> () -> service.rollback(name, (String) model, (String) reason);
            default -> () -> service.stop(name, (String) reason);
        };
        blocking(ctx, work).onSuccess(ignored -> send(ctx, 200, ExperimentJson.view(service.get(name))));
    }

    private void captureRate(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        if (body == null) {
            return;
        }
        Object model = body.getValue("model");
        Object rate = body.getValue("rate");
        if (!(model instanceof String m) || m.isEmpty() || !(rate instanceof Number r)) {
            fail(ctx, new IllegalArgumentException("body: expected {\"model\": \"<model name>\", \"rate\": <share 0..1>}, "
                    + "received " + body.encode()));
            return;
        }
        if (service.isExperiment(m)) {
            fail(ctx, new IllegalArgumentException("model: '" + m + "' is an experiment, whose traffic is captured "
                    + "at its definition's capture_rate (expected: a plain model name; to capture an experiment, "
                    + "create it with \"capture_rate\": <share 0..1>)"));
            return;
        }
        try {
            service.captureRate(m, r.doubleValue());
        } catch (IllegalArgumentException e) {
            fail(ctx, e);
            return;
        }
        send(ctx, 200, captureJson());
    }

    private JsonObject captureJson() {
        JsonObject rates = new JsonObject();
        service.captureRates().forEach(rates::put);
        JsonObject o = new JsonObject().put("models", rates);
        if (service.capture() != null) {
            o.put("written_rows", service.capture().writer().writtenRows())
                    .put("dropped", service.capture().writer().dropped())
                    .put("pending_labels", service.capture().pending());
        }
        return o;
    }

    private void list(RoutingContext ctx) {
        JsonArray all = new JsonArray();
        for (Experiment e : service.list()) {
            all.add(ExperimentJson.view(e));
        }
        send(ctx, 200, new JsonObject().put("experiments", all));
    }

    private void show(RoutingContext ctx) {
        try {
            send(ctx, 200, ExperimentJson.view(service.get(ctx.pathParam("experiment"))));
        } catch (RuntimeException e) {
            fail(ctx, e);
        }
    }

    private void feedback(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        if (body == null) {
            return;
        }
        Object id = body.getValue("id");
        Object rawClicks = body.getValue("clicks");
        if (!(id instanceof String sid) || sid.isEmpty()) {
            fail(ctx, new IllegalArgumentException("id: " + (id == null ? "missing" : id)
                    + " (expected: the 'id' of an inference response, as a string)"));
            return;
        }
        if (!(rawClicks instanceof JsonArray array)) {
            fail(ctx, new IllegalArgumentException("clicks: " + (rawClicks == null ? "missing" : rawClicks)
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
                fail(ctx, new IllegalArgumentException("clicks[" + i + "]: " + c + " (expected: 0 or 1)"));
                return;
            }
        }
        FeedbackOutcome o = service.feedback(sid, clicks);
        if (o instanceof FeedbackOutcome.Joined j) {
            send(ctx, 200, summary("joined", sid, j.impression(), clicks));
        } else if (o instanceof FeedbackOutcome.Duplicate d) {
            send(ctx, 200, summary("duplicate", sid, d.impression(), clicks));
        } else if (o instanceof FeedbackOutcome.Unknown) {
            fail(ctx, new HttpStatusException(404, "id: response '" + sid
                    + "' is unknown (expected: the id of a response served within its attribution window)"));
        } else if (o instanceof FeedbackOutcome.Expired x) {
            fail(ctx, new HttpStatusException(410, "id: response '" + sid + "' is past its attribution window by "
                    + (x.lateByMillis() / 1000.0) + " s (expected: feedback within the window; raise "
                    + "attribution_window_seconds to accept later clicks)"));
        } else if (o instanceof FeedbackOutcome.Ambiguous a) {
            fail(ctx, new HttpStatusException(409, "id: '" + sid + "' is the id of " + a.servings()
                    + " different live responses (clients reused a request id), so the clicks cannot be "
                    + "attributed (expected: a unique 'id' per inference request, or none and the gateway "
                    + "generates one)"));
        } else if (o instanceof FeedbackOutcome.WrongCount w) {
            fail(ctx, new IllegalArgumentException("clicks: expected " + w.impression().rows()
                    + " values (one per row of response '" + sid + "'), received " + w.received()));
        }
    }

    private static JsonObject summary(String status, String id, ai.distill.gateway.feedback.Impression i, int[] clicks) {
        int sum = 0;
        for (int c : clicks) {
            sum += c;
        }
        return new JsonObject().put("status", status).put("id", id).put("experiment", i.experiment())
                .put("variant", i.model()).put("rows", i.rows()).put("clicks", sum);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private <T> Future<T> blocking(RoutingContext ctx, Callable<T> work) {
        return vertx.executeBlocking(work, false).onFailure(e -> fail(ctx, e));
    }

    private static boolean isBlank(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        return body == null || body.length() == 0 || body.toString(StandardCharsets.UTF_8).isBlank();
    }

    private static JsonObject jsonBody(RoutingContext ctx) {
        try {
            JsonObject body = ctx.body().asJsonObject();
            if (body == null) {
                throw new DecodeException("empty body");
            }
            return body;
        } catch (DecodeException | ClassCastException e) {
            fail(ctx, new IllegalArgumentException("body: not a JSON object (" + e.getMessage()
                    + "); send Content-Type: application/json and a JSON object"));
            return null;
        }
    }

    static void fail(RoutingContext ctx, Throwable e) {
        Throwable mapped = e;
        if (e instanceof UnknownVariantException) {
            mapped = new HttpStatusException(404, e.getMessage());
        } else if (e instanceof ExperimentConflictException || e instanceof IllegalStateException) {
            mapped = new HttpStatusException(409, e.getMessage());
        } else if (e instanceof IllegalArgumentException) {
            mapped = new HttpStatusException(400, e.getMessage());
        }
        ctx.fail(mapped);
    }

    private static void send(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body.toBuffer());
    }
}
