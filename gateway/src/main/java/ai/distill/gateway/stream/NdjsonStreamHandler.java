package ai.distill.gateway.stream;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.InferPipeline.Resolved;
import ai.distill.gateway.metrics.GatewayMetrics.Transport;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /v1/models/{m}/stream}: NDJSON rows in, NDJSON scores out, with backpressure end to
 * end (see {@link RowStream}). {@code {m}} is a model or an experiment (then each row's {@code
 * user_id} picks its variant and each answer carries its {@code id} and {@code variant}). Must be
 * mounted before any body handler: the body is streamed, never buffered. Unknown names, a gateway
 * that is not ready, a full queue or a model that cannot stream fail before the first line (404,
 * 503, 429, 400); problems with single lines are answered in-band, and the stream goes on.
 *
 * <pre>{@code
 * curl --no-buffer -T rows.jsonl -H 'Content-Type: application/x-ndjson' \
 *      localhost:8080/v1/models/ctr/stream
 * }</pre>
 *
 * <p>Runs on event loops only; thread-safe.
 */
public final class NdjsonStreamHandler implements Handler<RoutingContext> {

  /** Rows per micro-batch of an experiment stream, where each row is its own request. */
  static final int EXPERIMENT_BATCH_ROWS = 64;

  private final InferPipeline pipeline;
  private final StreamOptions options;
  private final StreamStats stats = new StreamStats();

  public NdjsonStreamHandler(InferPipeline pipeline, StreamOptions options) {
    this.pipeline = pipeline;
    this.options = options;
  }

  /** What the open streams hold now. */
  public StreamStats stats() {
    return stats;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String name = ctx.pathParam("model");
    Resolved target = pipeline.resolve(name, null, Transport.STREAM, null);
    try {
      RowStream.check(target.signature());
    } catch (RuntimeException e) {
      pipeline.rejected(target, InferPipeline.outcome(e), Transport.STREAM);
      throw e;
    }
    int rows = options.microBatchRows();
    if (rows == 0) {
      rows =
          target.routed() ? EXPERIMENT_BATCH_ROWS : pipeline.models().batching(name).maxBatchRows();
    }
    new RowStream(ctx.vertx(), ctx.request(), pipeline, target, rows, options, stats).start();
  }
}
