package ai.distill.gateway.stream;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.InferPipeline.Resolved;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.metrics.GatewayMetrics.Outcome;
import ai.distill.gateway.metrics.GatewayMetrics.Transport;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.HttpServerConnection;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code POST /v1/models/{m}/stream}: NDJSON rows in, one NDJSON line per row out, in order.
 * Rows are parsed into micro-batches ({@link RowBatch}) scored through the normal pipeline; at most
 * {@code maxInFlight} micro-batches are in flight ({@link OrderedWindow}). The request is read only
 * while the window has room and the response's write queue is not full, so a slow reader slows the
 * scoring and a stream holds at most about {@code (maxInFlight + 1) × microBatchRows} rows whatever
 * its length. A client that stops reading for {@code stallTimeout} has its stream reset (HTTP/2) or
 * its connection closed at once (HTTP/1.1); one that disconnects frees everything at once. Runs on
 * one event loop; not thread-safe.
 */
final class RowStream {

  private static final System.Logger LOG = System.getLogger(RowStream.class.getName());

  /** A micro-batch's output lines and how many rows they answer. */
  private record Lines(Buffer text, int rows) {}

  private final Vertx vertx;
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final InferPipeline pipeline;
  private final Resolved target;
  private final StreamOptions options;
  private final StreamStats stats;
  private final int batchRows;
  private final String finiteOnly;
  private final LineBuffer input = new LineBuffer();
  private final OrderedWindow<Lines> window;
  private final RowLines lines;
  private RowBatch current;
  private long nextRow;
  private long held; // rows parsed and not yet written
  private boolean paused = true; // the router hands the request over paused
  private boolean inputEnded;
  private boolean finished;
  private long stallTimer = -1;

  RowStream(
      Vertx vertx,
      HttpServerRequest request,
      InferPipeline pipeline,
      Resolved target,
      int batchRows,
      StreamOptions options,
      StreamStats stats) {
    this.vertx = vertx;
    this.request = request;
    this.response = request.response();
    this.pipeline = pipeline;
    this.target = target;
    this.options = options;
    this.stats = stats;
    this.batchRows = batchRows;
    // A row with NaN or Infinity fails alone (the batch's other rows are scored), unless allowed.
    this.finiteOnly =
        pipeline.models().policy(target.model()).allowNonFinite() ? null : target.model();
    this.lines = new RowLines(target.routed());
    this.current = new RowBatch(target.signature(), capacity(0), 0, finiteOnly);
    this.window = new OrderedWindow<>(options.maxInFlight(), this::write);
  }

  static ModelSignature check(ModelSignature signature) {
    new RowBatch(signature, 1, 0, null); // fails with a 400 for signatures that cannot stream
    return signature;
  }

  void start() {
    stats.opened();
    response.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "application/x-ndjson");
    response.closeHandler(v -> abort("client disconnected"));
    response.exceptionHandler(e -> abort("response failed: " + e.getMessage()));
    response.drainHandler(v -> drained());
    request.handler(this::chunk);
    request.exceptionHandler(this::inputFailed);
    request.endHandler(v -> inputEnded());
    if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
      response.writeContinue();
    }
    flow();
  }

  private void chunk(Buffer data) {
    if (finished || inputEnded) {
      return;
    }
    input.append(data);
    parse();
    flow();
  }

  // Parses whole lines into micro-batches while the window has room (at the end of the upload:
  // all of them). A full batch goes at once, and so does any batch when nothing runs.
  private void parse() {
    while (!finished && (inputEnded || !window.full())) {
      if (options.maxRows() > 0 && nextRow + current.size() >= options.maxRows()) {
        if (!input.isEmpty()) {
          stopReading(
              "the stream has more than "
                  + options.maxRows()
                  + " lines (stream.max_rows); the rest was not read");
        }
        break;
      }
      int whole = input.wholeLinesEnd();
      if (whole < 0) {
        if (input.partialLength() > options.maxLineBytes()) {
          lineTooLong();
        }
        break;
      }
      int lines = current.size();
      int bad = lines - current.goodRows();
      int next = current.addLines(input.array(), input.start(), whole, options.maxLineBytes());
      input.consumeTo(next);
      added(current.size() - lines, current.size() - current.goodRows() - bad);
      if (current.full()) {
        flush();
      } else if (next < whole) {
        lineTooLong();
        break;
      } else {
        break; // every whole line is in the batch
      }
    }
    if (window.isEmpty() || inputEnded) {
      flush();
    }
  }

  // A micro-batch never reaches past the stream's line limit, so the limit falls between batches.
  private int capacity(long firstRow) {
    long left = options.maxRows() == 0 ? batchRows : options.maxRows() - firstRow;
    return (int) Math.max(1, Math.min(batchRows, left));
  }

  private void added(int lines, int bad) {
    held += lines;
    stats.buffered(lines);
    for (int i = 0; i < bad; i++) {
      pipeline.rejected(target, Outcome.BAD_REQUEST, Transport.STREAM);
    }
  }

  private void lineTooLong() {
    stopReading(
        "line "
            + (nextRow + current.size() + 1)
            + " is longer than "
            + options.maxLineBytes()
            + " bytes; the rest of the stream was not read");
  }

  private void inputFailed(Throwable e) {
    stopReading("reading the request failed: " + e.getMessage());
  }

  // The line that cannot be read is answered with `message`; nothing after it is read.
  private void stopReading(String message) {
    if (finished || inputEnded) {
      return;
    }
    inputEnded = true;
    input.clear();
    current.addError(message);
    added(1, 1);
    flush();
    completeIfDone();
  }

  private void inputEnded() {
    if (finished || inputEnded) {
      return;
    }
    inputEnded = true;
    input.terminate();
    parse();
    completeIfDone();
  }

  private void flush() {
    if (current.size() == 0) {
      return;
    }
    RowBatch batch = current;
    nextRow += batch.size();
    current = new RowBatch(target.signature(), capacity(nextRow), nextRow, finiteOnly);
    window.add(score(batch));
  }

  private Future<Lines> score(RowBatch batch) {
    if (batch.goodRows() == 0) {
      return Future.succeededFuture(new Lines(lines.encode(batch, null, null), batch.size()));
    }
    if (!target.routed()) {
      return submit(batch.request())
          .transform(
              ar ->
                  Future.succeededFuture(
                      new Lines(
                          lines.encode(
                              batch, ar.succeeded() ? List.of(ar.result()) : null, ar.cause()),
                          batch.size())));
    }
    List<Future<InferResult>> rows = new ArrayList<>();
    for (InferRequest r : batch.rowRequests()) {
      rows.add(submit(r));
    }
    return Future.join(rows)
        .transform(
            ar -> {
              List<Object> outcomes = new ArrayList<>(rows.size());
              for (Future<InferResult> f : rows) {
                outcomes.add(f.succeeded() ? f.result() : f.cause());
              }
              return Future.succeededFuture(
                  new Lines(lines.encodeRows(batch, outcomes), batch.size()));
            });
  }

  // A stream is a patient client: a full queue (other traffic) delays its batch, it does not fail.
  private Future<InferResult> submit(InferRequest r) {
    return pipeline
        .infer(target, r, Transport.STREAM)
        .recover(
            e -> {
              if (!(e instanceof QueueFullException) || finished) {
                return Future.failedFuture(e);
              }
              Promise<Void> later = Promise.promise();
              vertx.setTimer(2, id -> later.complete());
              return later.future().compose(v -> submit(r));
            });
  }

  private void write(AsyncResult<Lines> ar) {
    if (finished) {
      return;
    }
    Lines out = ar.result(); // scoring futures never fail: failures are encoded as error lines
    response.write(out.text());
    held -= out.rows();
    stats.buffered(-out.rows());
    if (response.writeQueueFull()) {
      startStallTimer();
    }
    parse();
    completeIfDone();
    flow();
  }

  private void drained() {
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
    flow();
  }

  private void startStallTimer() {
    if (stallTimer >= 0) {
      return;
    }
    stallTimer =
        vertx.setTimer(
            options.stallTimeout().toMillis(),
            id -> {
              stallTimer = -1;
              if (!finished && response.writeQueueFull()) {
                stats.stalledOne();
                LOG.log(
                    System.Logger.Level.WARNING,
                    "stream for ''{0}'' reset: the client read nothing for {1} ms",
                    target.name(),
                    options.stallTimeout().toMillis());
                abort("client stopped reading");
                // HTTP/2: reset the stream; HTTP/1.1: the connection is the stream
                if (request.version() == HttpVersion.HTTP_2) {
                  response.reset();
                } else {
                  hardClose(request.connection());
                }
              }
            });
  }

  /**
   * Closes a connection now. Vert.x's own close waits for the queued answers to be flushed, which
   * never happens for a client that does not read: its socket and the answers queued for it would
   * stay until the client goes away. Closing from Vert.x's own handler context passes the close to
   * the handlers below it (the codec, then the socket), past Vert.x's graceful close: the queued
   * answers are dropped and the socket closed now.
   */
  static void hardClose(HttpConnection connection) {
    if (connection instanceof HttpServerConnection c) {
      c.channelHandlerContext().close();
    } else {
      connection.close();
    }
  }

  // Reads the request only while the window has room and the client keeps up with the answers.
  private void flow() {
    boolean read = !finished && !inputEnded && !window.full() && !response.writeQueueFull();
    if (read && paused) {
      paused = false;
      request.resume();
    } else if (!read && !paused) {
      paused = true;
      request.pause();
    }
  }

  private void completeIfDone() {
    if (!finished && inputEnded && window.isEmpty() && current.size() == 0 && input.isEmpty()) {
      response.end();
      finish();
    }
  }

  private void abort(String reason) {
    if (finished) {
      return;
    }
    LOG.log(System.Logger.Level.DEBUG, "stream for ''{0}'' aborted: {1}", target.name(), reason);
    window.cancel();
    finish();
  }

  private void finish() {
    finished = true;
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
    stats.buffered(-held);
    held = 0;
    current =
        new RowBatch(
            target.signature(), 1, nextRow, finiteOnly); // drop the partial batch's buffers
    input.clear();
    stats.closed();
  }
}
