package ai.distill.gateway.http;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.InferTargetResolver.Route;
import ai.distill.gateway.InferTargetResolver.Target;
import ai.distill.gateway.batching.DynamicBatcher;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.metrics.GatewayMetrics.Outcome;
import ai.distill.gateway.protocol.InferRequestDecoder;
import ai.distill.gateway.protocol.InferResponseEncoder;
import ai.distill.gateway.runtime.LoadedModel;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.runtime.ModelUnavailableException;
import ai.distill.gateway.runtime.UnknownModelException;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * {@code POST /v2/models/{model}[/versions/{version}]/infer}: decodes the OIP request (JSON or
 * binary tensor extension) against the model's signature, queues it on the version's batcher and
 * encodes the outputs. A request for a version whose queue is full is refused (429) before its body
 * is decoded. Names that are not loaded models go to the registered {@link InferTargetResolver}s
 * (experiments). Runs on event loops only; ORT runs on workers.
 */
public final class InferHandler implements Handler<RoutingContext> {

  private static final System.Logger LOG = System.getLogger(InferHandler.class.getName());

  private final ModelRegistry models;
  private final GatewayMetrics metrics;
  private final List<InferTargetResolver> resolvers;
  private final BooleanSupplier ready;

  /** Bodies larger than this are decoded on a worker thread instead of the event loop. */
  static final int INLINE_DECODE_BYTES = 512 * 1024;

  /** Large bodies decoding on workers at once; more are refused (429) rather than queued. */
  static final int MAX_WORKER_DECODES = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  private final java.util.concurrent.atomic.AtomicInteger workerDecodes =
      new java.util.concurrent.atomic.AtomicInteger();
  private final InferRequestDecoder decoder = new InferRequestDecoder();
  private final InferResponseEncoder encoder = new InferResponseEncoder();

  /**
   * @param resolvers consulted in order for names that are not loaded models; may grow later (a
   *     copy-on-write list)
   */
  public InferHandler(
      ModelRegistry models,
      GatewayMetrics metrics,
      List<InferTargetResolver> resolvers,
      BooleanSupplier ready) {
    this.models = models;
    this.metrics = metrics;
    this.resolvers = resolvers;
    this.ready = ready;
  }

  @Override
  public void handle(RoutingContext ctx) {
    try {
      dispatch(ctx);
    } catch (RuntimeException e) {
      if (ctx.get(COUNTED) == null) {
        countRefused(ctx.pathParam("model"), e);
      }
      throw e;
    }
  }

  // A request refused before it reached a model (unknown model or version: 404; not ready: 503)
  // is counted too. Its model label is the requested name only when that names a loaded model:
  // names from clients are unbounded, so anything else is counted as "_unknown".
  private void countRefused(String name, RuntimeException e) {
    String model = name != null && models.isLoaded(name, null) ? name : UNKNOWN_MODEL;
    metrics.request(model, "", FailureHandler.outcome(FailureHandler.status(e)), 0);
  }

  /** The {@code model} label of requests for names that are not loaded models. */
  public static final String UNKNOWN_MODEL = "_unknown";

  private static final String COUNTED = "distill.request_counted";

  private void dispatch(RoutingContext ctx) {
    long start = System.nanoTime();
    if (!ready.getAsBoolean()) {
      throw new ModelUnavailableException("the gateway is not ready (starting or shutting down)");
    }
    String name = ctx.pathParam("model");
    Long version = OipRoutes.parseVersion(name, ctx.pathParam("version"));
    Integer headerLength =
        InferRequestDecoder.parseHeaderLength(
            ctx.request().getHeader(InferRequestDecoder.HEADER_LENGTH));
    Buffer body = ctx.body().buffer();
    if (body == null) {
      body = Buffer.buffer();
    }
    Buffer payload = body;
    if (version != null || models.isLoaded(name, null)) {
      LoadedModel model = models.acquire(name, version);
      // Admission before decoding: under overload a refused request must cost next to nothing,
      // or decoding refused bodies starves the event loops of the requests that are served.
      try {
        models.checkAdmission(model);
      } catch (RuntimeException e) {
        metrics.request(
            model.name(),
            Long.toString(model.version()),
            FailureHandler.outcome(FailureHandler.status(e)),
            0);
        ctx.put(COUNTED, Boolean.TRUE);
        model.release();
        throw e;
      }
      decode(ctx, payload, headerLength, model.signature())
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  metrics.request(
                      model.name(),
                      Long.toString(model.version()),
                      FailureHandler.outcome(FailureHandler.status(ar.cause())),
                      0);
                  model.release();
                  ctx.fail(ar.cause());
                  return;
                }
                serve(ctx, model, ar.result(), null, null, start);
              });
      return;
    }
    Route route =
        route(name, ctx)
            .orElseThrow(
                () ->
                    new UnknownModelException(
                        "model '"
                            + name
                            + "' is not loaded (loaded models: "
                            + models.loadedNames()
                            + ")"));
    // The signature is immutable: the reference is only needed while looking it up.
    LoadedModel signatureModel = models.acquire(route.signatureModel(), null);
    ModelSignature signature = signatureModel.signature();
    try {
      // The target is chosen after decoding; the signature model's queue is the cheap proxy.
      models.checkAdmission(signatureModel);
    } catch (RuntimeException e) {
      metrics.request(
          signatureModel.name(),
          Long.toString(signatureModel.version()),
          FailureHandler.outcome(FailureHandler.status(e)),
          0);
      ctx.put(COUNTED, Boolean.TRUE);
      throw e;
    } finally {
      signatureModel.release();
    }
    decode(ctx, payload, headerLength, signature)
        .onComplete(
            decoded -> {
              if (decoded.failed()) {
                ctx.fail(decoded.cause());
                return;
              }
              InferRequest request = decoded.result();
              select(route, request)
                  .onComplete(
                      ar -> {
                        if (ar.failed()) {
                          route.completed(request, null, null, ar.cause());
                          ctx.fail(ar.cause());
                          return;
                        }
                        Target target = ar.result();
                        LoadedModel model;
                        try {
                          model = models.acquire(target.model(), target.version());
                        } catch (RuntimeException e) {
                          route.completed(request, target, null, e);
                          ctx.fail(e);
                          return;
                        }
                        serve(ctx, model, request, route, target, start);
                      });
            });
  }

  private static Future<Target> select(Route route, InferRequest request) {
    try {
      Future<Target> target = route.select(request);
      return target == null
          ? Future.failedFuture(new IllegalStateException("route selected no target"))
          : target;
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Optional<Route> route(String name, RoutingContext ctx) {
    for (InferTargetResolver resolver : resolvers) {
      Optional<Route> route = resolver.resolve(name, ctx);
      if (route != null && route.isPresent()) {
        return route;
      }
    }
    return Optional.empty();
  }

  // Small bodies are decoded on the event loop; large ones (long JSON candidate lists) on a
  // worker, so that no single request holds an event loop for long.
  private Future<InferRequest> decode(
      RoutingContext ctx, Buffer body, Integer headerLength, ModelSignature signature) {
    if (body.length() > INLINE_DECODE_BYTES) {
      if (workerDecodes.incrementAndGet() > MAX_WORKER_DECODES) {
        int busy = workerDecodes.decrementAndGet();
        return Future.failedFuture(
            new QueueFullException(
                "too many large request bodies are"
                    + " being decoded ("
                    + busy
                    + ", limit "
                    + MAX_WORKER_DECODES
                    + "): retry after 1 s or send smaller requests",
                1));
      }
      return ctx.vertx()
          .<InferRequest>executeBlocking(
              () -> decoder.decode(body, headerLength, signature.inputs(), signature.outputs()),
              false)
          .andThen(ar -> workerDecodes.decrementAndGet());
    }
    try {
      return Future.succeededFuture(
          decoder.decode(body, headerLength, signature.inputs(), signature.outputs()));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private void serve(
      RoutingContext ctx,
      LoadedModel model,
      InferRequest request,
      Route route,
      Target target,
      long start) {
    String versionLabel = Long.toString(model.version());
    metrics.inFlight(model.name(), versionLabel, 1);
    // The registry holds its own reference while the request runs; ours covered the decoding.
    Future<DynamicBatcher.Timed<List<Tensor>>> run = models.infer(model, request);
    model.release();
    run.onComplete(
        ar -> {
          metrics.inFlight(model.name(), versionLabel, -1);
          if (ar.failed()) {
            metrics.request(
                model.name(),
                versionLabel,
                FailureHandler.outcome(FailureHandler.status(ar.cause())),
                0);
            if (route != null) {
              route.completed(request, target, null, ar.cause());
            }
            ctx.fail(ar.cause());
            return;
          }
          List<Tensor> outputs = ar.result().value();
          String id = request.id();
          if (id == null && route != null) {
            id = route.responseId(request, target, model.version());
          }
          if (id == null) {
            id = UUID.randomUUID().toString();
          }
          Map<String, Object> parameters = new LinkedHashMap<>();
          parameters.put("model_version", versionLabel);
          String variant = target == null ? null : target.variant();
          if (variant != null) {
            parameters.put("variant", variant);
          }
          InferResponseEncoder.Encoded encoded;
          try {
            encoded =
                encoder.encode(
                    model.name(),
                    versionLabel,
                    id,
                    outputs,
                    request.outputs(),
                    request.binaryDataOutput(),
                    parameters);
          } catch (RuntimeException e) {
            metrics.request(model.name(), versionLabel, Outcome.ERROR, 0);
            if (route != null) {
              route.completed(request, target, null, e);
            }
            ctx.fail(e);
            return;
          }
          long nanos = System.nanoTime() - start;
          InferResult result =
              new InferResult(
                  id,
                  model.name(),
                  model.version(),
                  variant,
                  outputs,
                  nanos,
                  ar.result().queueNanos(),
                  ar.result().computeNanos());
          // Observers run before the response is written (see InferPipeline.observe).
          InferPipeline.observe(route, resolvers, request, target, result);
          var response = ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, encoded.contentType());
          if (encoded.hasBinary()) {
            response.putHeader(
                InferRequestDecoder.HEADER_LENGTH,
                Integer.toString(encoded.inferenceHeaderContentLength()));
          }
          response.end(encoded.body());
          metrics.request(model.name(), versionLabel, Outcome.OK, nanos);
        });
  }
}
