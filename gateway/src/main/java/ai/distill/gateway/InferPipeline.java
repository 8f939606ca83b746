package ai.distill.gateway;

import ai.distill.gateway.InferTargetResolver.Route;
import ai.distill.gateway.InferTargetResolver.Target;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.http.FailureHandler;
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
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * The transport-agnostic inference path the gRPC service and the NDJSON stream share with HTTP:
 * resolve a name (a loaded model, else an {@link InferTargetResolver} route such as an experiment)
 * → admission → batch → run → observers (experiments, capture) → metrics with the request's {@link
 * Transport}. A request therefore behaves the same whichever transport carried it.
 *
 * <pre>{@code
 * InferPipeline.Resolved target = pipeline.resolve("ctr", null);   // throws 404/503-type errors
 * InferRequest request = decode(bytes, target.signature());
 * pipeline.infer(target, request, Transport.GRPC).onSuccess(result -> ...);
 * }</pre>
 *
 * <p>Thread-safe; call from an event loop (nothing here blocks). Owns nothing.
 */
public final class InferPipeline {

  private static final System.Logger LOG = System.getLogger(InferPipeline.class.getName());

  private final ModelRegistry models;
  private final GatewayMetrics metrics;
  private final List<InferTargetResolver> resolvers;
  private final BooleanSupplier ready;

  /**
   * @param resolvers consulted in order for names that are not loaded models (a live, copy-on-write
   *     list)
   */
  public InferPipeline(
      ModelRegistry models,
      GatewayMetrics metrics,
      List<InferTargetResolver> resolvers,
      BooleanSupplier ready) {
    this.models = models;
    this.metrics = metrics;
    this.resolvers = resolvers;
    this.ready = ready;
  }

  /** The models this pipeline serves. */
  public ModelRegistry models() {
    return models;
  }

  /**
   * What a name resolved to: the signature that decodes its requests, and either a model version
   * ({@code route} null) or an experiment-style route.
   */
  public record Resolved(String name, Long version, ModelSignature signature, Route route) {

    /** True when a route (e.g. an experiment) picks the model per request. */
    public boolean routed() {
      return route != null;
    }
  }

  /**
   * Resolves {@code name} ({@code version} null: the default) and checks admission on its batcher
   * (a route's signature model stands in for the target it will pick, as on HTTP). A refused model
   * request is counted in the request metrics of {@code transport}.
   *
   * @throws ModelUnavailableException when the gateway is not ready
   * @throws UnknownModelException when neither a loaded model nor a route knows the name
   * @throws QueueFullException when the batcher's queue is full
   */
  public Resolved resolve(String name, Long version, Transport transport) {
    if (!ready.getAsBoolean()) {
      throw new ModelUnavailableException("the gateway is not ready (starting or shutting down)");
    }
    if (version != null || models.isLoaded(name, null)) {
      LoadedModel model = models.acquire(name, version);
      try {
        models.checkAdmission(model);
        return new Resolved(name, version, model.signature(), null);
      } catch (RuntimeException e) {
        metrics.request(model.name(), Long.toString(model.version()), outcome(e), 0, transport);
        throw e;
      } finally {
        model.release();
      }
    }
    Route route = route(name);
    LoadedModel signatureModel = models.acquire(route.signatureModel(), null);
    try {
      models.checkAdmission(signatureModel);
      return new Resolved(name, null, signatureModel.signature(), route);
    } finally {
      signatureModel.release();
    }
  }

  /**
   * A route for every name that is not a loaded model.
   *
   * @throws UnknownModelException when no resolver knows it
   */
  private Route route(String name) {
    for (InferTargetResolver resolver : resolvers) {
      Optional<Route> route = resolver.resolve(name, null);
      if (route != null && route.isPresent()) {
        return route.get();
      }
    }
    throw new UnknownModelException(
        "model '" + name + "' is not loaded (loaded models: " + models.loadedNames() + ")");
  }

  /**
   * Serves a decoded request for what {@link #resolve} returned (it may be reused for many
   * requests, e.g. the rows of a stream). For a route, the route is resolved again for each
   * request. The response {@code id} is the request's, or a generated one. Never throws; the future
   * completes on the caller's context. Experiment and capture observers run before the future
   * completes, as for HTTP.
   */
  public Future<InferResult> infer(Resolved target, InferRequest request, Transport transport) {
    long start = System.nanoTime();
    if (!target.routed()) {
      return serve(target.name(), target.version(), null, request, null, transport, start);
    }
    Route route;
    try {
      route = route(target.name()); // a fresh route: routes keep per-request state
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
    Route r = route;
    return selected
        .recover(
            e -> {
              r.completed(request, null, null, e);
              return Future.failedFuture(e);
            })
        .compose(t -> serve(t.model(), t.version(), t.variant(), request, r, transport, start));
  }

  private Future<InferResult> serve(
      String name,
      Long version,
      String variant,
      InferRequest request,
      Route route,
      Transport transport,
      long start) {
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
    Target target = new Target(model.name(), model.version(), variant);
    metrics.inFlight(model.name(), versionLabel, 1);
    var run = models.infer(model, request);
    model.release();
    return run.transform(
        ar -> {
          metrics.inFlight(model.name(), versionLabel, -1);
          if (ar.failed()) {
            metrics.request(model.name(), versionLabel, outcome(ar.cause()), 0, transport);
            if (route != null) {
              route.completed(request, target, null, ar.cause());
            }
            return Future.failedFuture(ar.cause());
          }
          long nanos = System.nanoTime() - start;
          String id = request.id() != null ? request.id() : UUID.randomUUID().toString();
          InferResult result =
              new InferResult(
                  id,
                  model.name(),
                  model.version(),
                  variant,
                  ar.result().value(),
                  nanos,
                  ar.result().queueNanos(),
                  ar.result().computeNanos());
          observe(route, resolvers, request, target, result);
          metrics.request(model.name(), versionLabel, Outcome.OK, nanos, transport);
          return Future.succeededFuture(result);
        });
  }

  /**
   * Tells who watches a served request: its route (an experiment), else every resolver (capture of
   * plain models). An observer's failure is logged, never the request's. Every transport calls it
   * before it answers, so what observers record (an impression awaiting feedback) is visible to any
   * request the client sends after the answer.
   */
  public static void observe(
      Route route,
      Iterable<InferTargetResolver> resolvers,
      InferRequest request,
      Target target,
      InferResult result) {
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
