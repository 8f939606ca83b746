package ai.distill.gateway.http;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.logging.AccessLogHandler;
import ai.distill.gateway.logging.RequestIdHandler;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.metrics.MetricsEndpoint;
import ai.distill.gateway.runtime.LoadedModel;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.runtime.RepositoryIndex;
import ai.distill.gateway.runtime.UnknownModelException;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Mounts the Open Inference Protocol v2 endpoints, the Triton repository extension (index, load,
 * unload behind the admin token) and {@code GET /metrics} on a router, plus the body limit (413)
 * and the failure handler. Handlers run on event loops and never block.
 */
public final class OipRoutes {

  /** Server name in {@code GET /v2}. */
  public static final String SERVER_NAME = "distill";

  /** Server version in {@code GET /v2}: the build's version. */
  public static final String SERVER_VERSION = ai.distill.gateway.metrics.BuildInfo.version();

  /** Extensions advertised in {@code GET /v2}. */
  public static final List<String> EXTENSIONS =
      List.of("binary_tensor_data", "model_repository", "parameters");

  private final ModelRegistry models;
  private final GatewayMetrics metrics;
  private final BooleanSupplier ready;

  private OipRoutes(ModelRegistry models, GatewayMetrics metrics, BooleanSupplier ready) {
    this.models = models;
    this.metrics = metrics;
    this.ready = ready;
  }

  /**
   * Mounts everything on {@code router}: {@code POST /v1/models/:model/stream} (before the body
   * handler: its body is streamed), a body handler limited to {@code maxBodyBytes} for every other
   * route, the OIP and admin routes, a JSON 404 for unknown paths (ordered last, so routes mounted
   * later still match) and the failure handler.
   */
  public static void mount(
      Router router,
      InferPipeline pipeline,
      GatewayMetrics metrics,
      BooleanSupplier ready,
      Handler<RoutingContext> admin,
      long maxBodyBytes,
      Handler<RoutingContext> stream) {
    OipRoutes r = new OipRoutes(pipeline.models(), metrics, ready);
    router.route().handler(new RequestIdHandler());
    router.route().handler(new AccessLogHandler());
    router.route().handler(OipRoutes::neverFormDecode);
    router.post("/v1/models/:model/stream").handler(stream);
    // Preallocated from Content-Length (Vert.x caps it at 64 KiB): growing the buffer by doubling
    // was most of the gateway's per-request garbage (three copies of every 17 KB binary body).
    router
        .route()
        .handler(
            BodyHandler.create(false).setBodyLimit(maxBodyBytes).setPreallocateBodyBuffer(true));
    // The body handler continues on a later callback: the request id goes back in the MDC.
    router.route().handler(RequestIdHandler.restoreMdc());
    router.get("/v2/health/live").handler(ctx -> ctx.response().end());
    router.get("/v2/health/ready").handler(r::healthReady);
    router.get("/v2").handler(r::serverMetadata);
    InferHandler infer = new InferHandler(pipeline);
    router.post("/v2/models/:model/infer").handler(infer);
    router.post("/v2/models/:model/versions/:version/infer").handler(infer);
    router.get("/v2/models/:model").handler(r::modelMetadata);
    router.get("/v2/models/:model/versions/:version").handler(r::modelMetadata);
    router.get("/v2/models/:model/ready").handler(r::modelReady);
    router.get("/v2/models/:model/versions/:version/ready").handler(r::modelReady);
    router.post("/v2/repository/index").handler(r::index);
    router.post("/v2/repository/models/:model/load").handler(admin).handler(r::load);
    router.post("/v2/repository/models/:model/unload").handler(admin).handler(r::unload);
    router.get("/metrics").handler(new MetricsEndpoint(metrics.registry()));
    router.route().last().handler(ctx -> ctx.fail(404));
    router.route().failureHandler(new FailureHandler(maxBodyBytes));
  }

  /**
   * Every body here is JSON (or JSON + binary tensors), whatever the content type claims: {@code
   * curl -d} labels JSON {@code application/x-www-form-urlencoded}, and letting the body handler
   * form-decode it fails on any body over ~1 KB. Relabels form content types before the body
   * handler reads them, so the body is only ever buffered. Must run synchronously, right before the
   * body handler.
   */
  static void neverFormDecode(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null) {
      String lower = type.toLowerCase(java.util.Locale.ROOT);
      if (lower.startsWith("application/x-www-form-urlencoded")) {
        ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/json");
      } else if (lower.startsWith("multipart/")) {
        ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
      }
    }
    ctx.next();
  }

  /** Parses a {@code /versions/{v}} path segment; null when absent, 404 when not a version. */
  static Long parseVersion(String model, String version) {
    if (version == null) {
      return null;
    }
    try {
      long v = Long.parseLong(version);
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new UnknownModelException(
        "model '"
            + model
            + "' has no version '"
            + version
            + "' (expected: a positive integer version such as /versions/1)");
  }

  private void healthReady(RoutingContext ctx) {
    if (ready.getAsBoolean()) {
      ctx.response().end();
    } else {
      ctx.response().setStatusCode(503).end();
    }
  }

  private void serverMetadata(RoutingContext ctx) {
    json(
        ctx,
        new JsonObject()
            .put("name", SERVER_NAME)
            .put("version", SERVER_VERSION)
            .put("extensions", new JsonArray(EXTENSIONS)));
  }

  private void modelMetadata(RoutingContext ctx) {
    String name = ctx.pathParam("model");
    Long version = parseVersion(name, ctx.pathParam("version"));
    LoadedModel model = models.acquire(name, version);
    try {
      ModelSignature signature = model.signature();
      JsonArray versions = new JsonArray();
      for (LoadedModel m : models.loaded(name)) {
        versions.add(Long.toString(m.version()));
      }
      json(
          ctx,
          new JsonObject()
              .put("name", name)
              .put("versions", versions)
              .put("platform", "onnxruntime_onnx")
              .put("inputs", specs(signature.inputs()))
              .put("outputs", specs(signature.outputs()))
              .put(
                  "parameters",
                  new JsonObject()
                      .put("model_version", Long.toString(model.version()))
                      .put(
                          "role",
                          model.stored().role().toString().toLowerCase(java.util.Locale.ROOT))
                      .put("max_batch_rows", models.batching(name).maxBatchRows())));
    } finally {
      model.release();
    }
  }

  private static JsonArray specs(List<TensorSpec> specs) {
    JsonArray array = new JsonArray();
    for (TensorSpec s : specs) {
      JsonArray shape = new JsonArray();
      for (long d : s.shape()) {
        shape.add(d);
      }
      array.add(
          new JsonObject()
              .put("name", s.name())
              .put("datatype", s.datatype().name())
              .put("shape", shape));
    }
    return array;
  }

  private void modelReady(RoutingContext ctx) {
    String name = ctx.pathParam("model");
    Long version = parseVersion(name, ctx.pathParam("version"));
    if (!models.isLoaded(name, version)) {
      throw new UnknownModelException(
          "model '"
              + name
              + "'"
              + (version == null ? "" : " version " + version)
              + " is not loaded (loaded models: "
              + models.loadedNames()
              + ")");
    }
    ctx.response().setStatusCode(ready.getAsBoolean() ? 200 : 503).end();
  }

  private void index(RoutingContext ctx) {
    JsonObject body = optionalJson(ctx);
    boolean onlyReady = body.getBoolean("ready", false);
    models
        .index()
        .onSuccess(
            entries -> {
              JsonArray array = new JsonArray();
              for (RepositoryIndex.Entry e : entries) {
                if (onlyReady && !e.state().equals("READY")) {
                  continue;
                }
                JsonObject o =
                    new JsonObject()
                        .put("name", e.name())
                        .put("version", Long.toString(e.version()))
                        .put("state", e.state());
                if (!e.reason().isEmpty()) {
                  o.put("reason", e.reason());
                }
                array.add(o);
              }
              ctx.response()
                  .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                  .end(array.toBuffer());
            })
        .onFailure(ctx::fail);
  }

  private void load(RoutingContext ctx) {
    String name = ai.distill.store.ModelStore.checkName(ctx.pathParam("model"));
    Long version = requestedVersion(ctx, name);
    models
        .load(name, version, true)
        .onSuccess(
            m ->
                json(
                    ctx,
                    new JsonObject()
                        .put("name", m.name())
                        .put("version", Long.toString(m.version()))
                        .put("state", "READY")))
        .onFailure(ctx::fail);
  }

  private void unload(RoutingContext ctx) {
    String name = ai.distill.store.ModelStore.checkName(ctx.pathParam("model"));
    Long version = requestedVersion(ctx, name);
    models
        .unload(name, version)
        .onSuccess(
            v ->
                json(
                    ctx,
                    new JsonObject()
                        .put("name", name)
                        .put("version", version == null ? null : Long.toString(version))
                        .put("state", "UNAVAILABLE")))
        .onFailure(ctx::fail);
  }

  // The version of a load/unload request: {"version": N} or {"parameters": {"version": N}}.
  private static Long requestedVersion(RoutingContext ctx, String name) {
    JsonObject body = optionalJson(ctx);
    Object v = body.getValue("version");
    if (v == null && body.getValue("parameters") instanceof JsonObject p) {
      v = p.getValue("version");
    }
    if (v == null) {
      return null;
    }
    return parseVersion(name, v.toString());
  }

  private static JsonObject optionalJson(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new HttpStatusException(400, "request body is not a JSON object: " + e.getMessage());
    }
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
  }
}
