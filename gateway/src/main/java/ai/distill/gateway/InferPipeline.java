package ai.distill.gateway;

import ai.distill.gateway.InferTargetResolver.Route;
import ai.distill.gateway.InferTargetResolver.Target;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.http.FailureHandler;
import ai.distill.gateway.http.HttpStatusException;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.metrics.GatewayMetrics.Outcome;
import ai.distill.gateway.metrics.GatewayMetrics.Transport;
import ai.distill.gateway.runtime.LoadedModel;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.runtime.ModelUnavailableException;
import ai.distill.gateway.runtime.UnknownModelException;
import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The one inference path under every transport (HTTP, gRPC, the NDJSON stream): resolve a name (a
 * loaded model, else an {@link InferTargetResolver} route such as an experiment) → admission →
 * batch → run → encode → observers (experiments, capture) → metrics with the request's {@link
 * Transport}. A request therefore behaves the same whichever transport carried it; transports only
 * decode and encode. Every request is counted once in {@code distill_requests_total}: refusals by
 * {@link #resolve}, decode failures by {@link #rejected}, the rest by {@link #infer}.
 *
 * <pre>{@code
 * InferPipeline.Resolved target = pipeline.resolve("ctr", null, Transport.GRPC, null); // 404/429/503
 * InferRequest request = decode(bytes, target.signature());  // on failure: pipeline.rejected(...)
 * pipeline.infer(target, request, Transport.GRPC).onSuccess(result -> ...);
 * }</pre>
 *
 * <p>Thread-safe; call from an event loop (nothing here blocks). Owns nothing.
 */
public final class InferPipeline {

  private static final System.Logger LOG = System.getLogger(InferPipeline.class.getName());

  /** The {@code model} label of requests for names that are not loaded models. */
  public static final String UNKNOWN_MODEL = "_unknown";

  private final ModelRegistry models;
  private final GatewayMetrics metrics;
  private final List<InferTargetResolver> resolvers;
  private final BooleanSupplier ready;
  private final RequestLimits limits;

  /**
   * @param resolvers consulted in order for names that are not loaded models (a live, copy-on-write
   *     list)
   */
  public InferPipeline(
      ModelRegistry models,
      GatewayMetrics metrics,
      List<InferTargetResolver> resolvers,
      BooleanSupplier ready,
      RequestLimits limits) {
    this.models = models;
    this.metrics = metrics;
    this.resolvers = resolvers;
    this.ready = ready;
    this.limits = limits;
  }

  /** The models this pipeline serves. */
  public ModelRegistry models() {
    return models;
  }

  /**
   * What a name resolved to: the signature that decodes its requests, the model (and version) that
   * signature is from — the label of requests refused before they reach a model — and either a
   * model version ({@code routed()} false) or an experiment-style route. Immutable; may serve many
   * requests (the rows of a stream).
   */
  public static final class Resolved {
    private final String name;
    private final Long version;
    private final ModelSignature signature;
    private final String model;
    private final long modelVersion;
    private final boolean routed;
    private final RoutingContext context;

    private Resolved(
        String name, Long version, LoadedModel model, boolean routed, RoutingContext context) {
      this.name = name;
      this.version = version;
      this.signature = model.signature();
      this.model = model.name();
      this.modelVersion = model.version();
      this.routed = routed;
      this.context = context;
    }

    /** The requested name (a model or a route such as an experiment). */
    public String name() {
      return name;
    }

    /** The requested version, null for the default. */
    public Long version() {
      return version;
    }

    public ModelSignature signature() {
      return signature;
    }

    /** The model whose signature decodes the requests (a route's signature model). */
    public String model() {
      return model;
    }

    /** True when a route (e.g. an experiment) picks the model per request. */
    public boolean routed() {
      return routed;
    }
  }

  /** Fails when the gateway is not ready (starting or shutting down). */
  public void requireReady() {
    if (!ready.getAsBoolean()) {
      throw new ModelUnavailableException("the gateway is not ready (starting or shutting down)");
    }
  }

  /**
   * Resolves {@code name} ({@code version} null: the default) and checks admission on its batcher
   * (a route's signature model stands in for the target it will pick). A refusal is counted in the
   * request metrics of {@code transport}.
   *
   * @param context the HTTP request, for resolvers that look at it; null for other transports
   * @throws ModelUnavailableException when the gateway is not ready
   * @throws UnknownModelException when neither a loaded model nor a route knows the name
   * @throws QueueFullException when the batcher's queue is full
   */
  public Resolved resolve(String name, Long version, Transport transport, RoutingContext context) {
    LoadedModel model;
    boolean routed = false;
    try {
      requireReady();
      if (version != null || models.isLoaded(name, null)) {
        model = models.acquire(name, version);
      } else {
        // The signature is immutable: the reference is only needed while looking it up.
        model = models.acquire(route(name, context).signatureModel(), null);
        routed = true;
      }
    } catch (RuntimeException e) {
      refused(name, e, transport);
      throw e;
    }
    try {
      // Before decoding: under overload a refused request must cost next to nothing. For a route
      // the target is chosen after decoding; the signature model's queue is the cheap proxy.
      models.checkAdmission(model);
      return new Resolved(name, version, model, routed, context);
    } catch (RuntimeException e) {
      metrics.request(model.name(), Long.toString(model.version()), outcome(e), 0, transport);
      throw e;
    } finally {
      model.release();
    }
  }

  /**
   * Counts a request for {@code name} refused before it resolved (not ready, unknown name, bad
   * version, undecodable envelope). Its model label is {@code name} only when that names a loaded
   * model: names from clients are unbounded, anything else is counted as {@value #UNKNOWN_MODEL}.
   */
  public void refused(String name, Throwable e, Transport transport) {
    String model = name != null && models.isLoaded(name, null) ? name : UNKNOWN_MODEL;
    metrics.request(model, "", outcome(e), 0, transport);
  }

  /**
   * Counts a request (or a stream's line) for {@code target} that failed before it was served: it
   * did not decode.
   */
  public void rejected(Resolved target, Outcome outcome, Transport transport) {
    metrics.request(target.model, Long.toString(target.modelVersion), outcome, 0, transport);
  }

  private Route route(String name, RoutingContext context) {
    for (InferTargetResolver resolver : resolvers) {
      Optional<Route> route = resolver.resolve(name, context);
      if (route != null && route.isPresent()) {
        return route.get();
      }
    }
    throw new UnknownModelException(
        "model '" + name + "' is not loaded (loaded models: " + models.loadedNames() + ")");
  }

  /** {@link #infer(Resolved, InferRequest, Transport, long, Function)} of the plain result. */
  public Future<InferResult> infer(Resolved target, InferRequest request, Transport transport) {
    return infer(target, request, transport, System.nanoTime(), Function.identity());
  }

  /**
   * Serves a decoded request for what {@link #resolve} returned (it may be reused for many
   * requests, e.g. the rows of a stream; a route is resolved again for each request, as routes keep
   * per-request state) and encodes its result. The response {@code id} is the request's, else the
   * route's ({@link Route#responseId}: a feedback id), else a random one. Observers run after
   * {@code encode} and before the future completes, so what they record is visible to whatever the
   * client sends after the answer. Never throws; the future completes on the caller's context.
   *
   * @param startNanos when the request arrived ({@link System#nanoTime}), for its latency
   * @param encode the transport's answer for a result; a failure there fails the request (counted
   *     as an error)
   */
  public <T> Future<T> infer(
      Resolved target,
      InferRequest request,
      Transport transport,
      long startNanos,
      Function<InferResult, T> encode) {
    if (!limits.requestFits(request.rows())) {
      HttpStatusException e =
          new HttpStatusException(
              413,
              "the request has "
                  + request.rows()
                  + " rows; this gateway takes at most "
                  + limits.maxRowsPerRequest()
                  + " per request (max_rows_per_request): split it");
      rejected(target, outcome(e), transport);
      return Future.failedFuture(e);
    }
    if (!target.routed) {
      return serve(target.name, target.version, null, request, null, transport, startNanos, encode);
    }
    Route route;
    try {
      route = route(target.name, target.context); // a fresh route: routes keep per-request state
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Future<Target> selected;
    try {
      selected = route.select(request);
      if (selected == null) {
        selected = Future.failedFuture(new IllegalStateException("route selected no target"));
      }
    } catch (RuntimeException e) {
      selected = Future.failedFuture(e);
    }
    return selected
        .recover(
            e -> {
              route.completed(request, null, null, e);
              return Future.failedFuture(e);
            })
        .compose(
            t ->
                serve(
                    t.model(),
                    t.version(),
                    t.variant(),
                    request,
                    route,
                    transport,
                    startNanos,
                    encode));
  }

  private <T> Future<T> serve(
      String name,
      Long version,
      String variant,
      InferRequest request,
      Route route,
      Transport transport,
      long start,
      Function<InferResult, T> encode) {
    LoadedModel model;
    try {
      model = models.acquire(name, version);
    } catch (RuntimeException e) {
      if (route != null) {
        route.completed(request, new Target(name, version, variant), null, e);
      }
      return Future.failedFuture(e);
    }
    String versionLabel = Long.toString(model.version());
    Target target = route == null ? null : new Target(name, version, variant);
    metrics.inFlight(model.name(), versionLabel, 1);
    // The registry holds its own reference while the request runs.
    var run = models.infer(model, request);
    model.release();
    return run.transform(
        ar -> {
          metrics.inFlight(model.name(), versionLabel, -1);
          if (ar.failed()) {
            return failed(
                model, request, route, target, ar.cause(), outcome(ar.cause()), transport);
          }
          String id = request.id();
          if (id == null && route != null) {
            id = route.responseId(request, target, model.version());
          }
          if (id == null) {
            id = UUID.randomUUID().toString();
          }
          InferResult result =
              new InferResult(
                  id,
                  model.name(),
                  model.version(),
                  variant,
                  ar.result().value(),
                  System.nanoTime() - start,
                  ar.result().queueNanos(),
                  ar.result().computeNanos());
          T answer;
          try {
            answer = encode.apply(result);
          } catch (RuntimeException e) {
            return failed(model, request, route, target, e, Outcome.ERROR, transport);
          }
          observe(route, request, target, result);
          metrics.request(
              model.name(), versionLabel, Outcome.OK, System.nanoTime() - start, transport);
          return Future.succeededFuture(answer);
        });
  }

  private <T> Future<T> failed(
      LoadedModel model,
      InferRequest request,
      Route route,
      Target target,
      Throwable e,
      Outcome outcome,
      Transport transport) {
    metrics.request(model.name(), Long.toString(model.version()), outcome, 0, transport);
    if (route != null) {
      route.completed(request, target, null, e);
    }
    return Future.failedFuture(e);
  }

  /**
   * Tells who watches a served request: its route (an experiment), else every resolver (capture of
   * plain models). An observer's failure is logged, never the request's.
   */
  private void observe(Route route, InferRequest request, Target target, InferResult result) {
    try {
      if (route != null) {
        route.completed(request, target, result, null);
      } else {
        for (InferTargetResolver resolver : resolvers) {
          resolver.servedModel(request, result);
        }
      }
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "infer observer failed for " + result.model() + ":" + result.version(),
          e);
    }
  }

  /** The metrics outcome of a failure, mapped as HTTP maps it to a status code. */
  public static Outcome outcome(Throwable e) {
    return FailureHandler.outcome(FailureHandler.status(e));
  }
}
