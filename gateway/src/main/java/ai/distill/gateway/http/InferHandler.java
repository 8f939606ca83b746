package ai.distill.gateway.http;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.InferPipeline.Resolved;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.InferTargetResolver;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.metrics.GatewayMetrics.Transport;
import ai.distill.gateway.protocol.InferRequestDecoder;
import ai.distill.gateway.protocol.InferResponseEncoder;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code POST /v2/models/{model}[/versions/{version}]/infer}: the HTTP adapter of the {@link
 * InferPipeline}. Decodes the OIP request (JSON or binary tensor extension) against the resolved
 * signature and encodes the outputs; resolving, admission (a full queue is refused, 429, before the
 * body is decoded), batching, experiments ({@link InferTargetResolver}s), capture and metrics are
 * the pipeline's. Runs on event loops only; large bodies decode on workers, ORT runs on workers.
 */
public final class InferHandler implements Handler<RoutingContext> {

  /** Bodies larger than this are decoded on a worker thread instead of the event loop. */
  static final int INLINE_DECODE_BYTES = 512 * 1024;

  /** Large bodies decoding on workers at once; more are refused (429) rather than queued. */
  static final int MAX_WORKER_DECODES = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  /** The {@code model} label of requests for names that are not loaded models. */
  public static final String UNKNOWN_MODEL = InferPipeline.UNKNOWN_MODEL;

  private final InferPipeline pipeline;
  private final AtomicInteger workerDecodes = new AtomicInteger();
  private final InferRequestDecoder decoder = new InferRequestDecoder();
  private final InferResponseEncoder encoder = new InferResponseEncoder();

  public InferHandler(InferPipeline pipeline) {
    this.pipeline = pipeline;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    String name = ctx.pathParam("model");
    Long version;
    Integer headerLength;
    try {
      pipeline.requireReady();
      version = OipRoutes.parseVersion(name, ctx.pathParam("version"));
      headerLength =
          InferRequestDecoder.parseHeaderLength(
              ctx.request().getHeader(InferRequestDecoder.HEADER_LENGTH));
    } catch (RuntimeException e) {
      pipeline.refused(name, e, Transport.HTTP);
      throw e;
    }
    Resolved target = pipeline.resolve(name, version, Transport.HTTP, ctx); // counts its refusals
    Buffer body = ctx.body().buffer();
    decode(ctx, body == null ? Buffer.buffer() : body, headerLength, target.signature())
        .onFailure(
            e -> {
              pipeline.rejected(target, InferPipeline.outcome(e), Transport.HTTP);
              ctx.fail(e);
            })
        .onSuccess(
            request ->
                pipeline
                    .infer(target, request, Transport.HTTP, start, r -> encode(request, r))
                    .onSuccess(encoded -> send(ctx, encoded))
                    .onFailure(ctx::fail));
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
                "too many large request bodies are being decoded ("
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

  private InferResponseEncoder.Encoded encode(InferRequest request, InferResult result) {
    String version = Long.toString(result.version());
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("model_version", version);
    if (result.variant() != null) {
      parameters.put("variant", result.variant());
    }
    return encoder.encode(
        result.model(),
        version,
        result.id(),
        result.outputs(),
        request.outputs(),
        request.binaryDataOutput(),
        parameters);
  }

  private static void send(RoutingContext ctx, InferResponseEncoder.Encoded encoded) {
    var response = ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, encoded.contentType());
    if (encoded.hasBinary()) {
      response.putHeader(
          InferRequestDecoder.HEADER_LENGTH,
          Integer.toString(encoded.inferenceHeaderContentLength()));
    }
    response.end(encoded.body());
  }
}
