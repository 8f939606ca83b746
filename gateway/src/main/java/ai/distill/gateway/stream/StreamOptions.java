package ai.distill.gateway.stream;

import java.time.Duration;

/**
 * How streams are scored: rows per micro-batch ({@code 0}: the model's {@code max_batch_rows}),
 * micro-batches (or gRPC messages) in flight per stream, the longest NDJSON line, and how long a
 * client may stop reading before its stream is failed. The in-flight bound is what keeps a stream
 * from starving unary traffic: the batcher's queue is FIFO, so a unary request waits behind at most
 * {@code maxInFlight} of a stream's micro-batches. Immutable.
 */
public record StreamOptions(
    int microBatchRows, int maxInFlight, int maxLineBytes, Duration stallTimeout, long maxRows) {

  /**
   * Micro-batches of max_batch_rows, 2 in flight, 1 MiB lines, 30 s without reading, no limit on
   * the lines of an NDJSON stream.
   */
  public static final StreamOptions DEFAULT =
      new StreamOptions(0, 2, 1 << 20, Duration.ofSeconds(30), 0);

  public StreamOptions {
    if (microBatchRows < 0) {
      throw new IllegalArgumentException(
          "microBatchRows : " + microBatchRows + " (expected: >= 0, 0 = max_batch_rows)");
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight : " + maxInFlight + " (expected: >= 1)");
    }
    if (maxLineBytes < 64) {
      throw new IllegalArgumentException("maxLineBytes : " + maxLineBytes + " (expected: >= 64)");
    }
    if (stallTimeout.isNegative() || stallTimeout.isZero()) {
      throw new IllegalArgumentException("stallTimeout : " + stallTimeout + " (expected: > 0)");
    }
    if (maxRows < 0) {
      throw new IllegalArgumentException(
          "stream.max_rows : " + maxRows + " (expected: >= 0, 0 = no limit)");
    }
  }

  public StreamOptions withMicroBatchRows(int rows) {
    return new StreamOptions(rows, maxInFlight, maxLineBytes, stallTimeout, maxRows);
  }

  public StreamOptions withMaxInFlight(int n) {
    return new StreamOptions(microBatchRows, n, maxLineBytes, stallTimeout, maxRows);
  }

  public StreamOptions withStallTimeout(Duration d) {
    return new StreamOptions(microBatchRows, maxInFlight, maxLineBytes, d, maxRows);
  }

  /** A copy where an NDJSON stream reads at most {@code rows} lines (0: no limit). */
  public StreamOptions withMaxRows(long rows) {
    return new StreamOptions(microBatchRows, maxInFlight, maxLineBytes, stallTimeout, rows);
  }
}
