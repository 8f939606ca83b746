package ai.distill.gateway;

/**
 * How much one request and one stream may carry, beyond the body size ({@code max_body_bytes}):
 * rows per inference request over HTTP or gRPC ({@code max_rows_per_request}; more is refused with
 * 413 / RESOURCE_EXHAUSTED before it reaches a batcher) and rows per NDJSON stream ({@code
 * stream.max_rows}; the stream answers the rows up to the limit, then one error line, and reads no
 * further). {@code 0} means no limit. Immutable.
 */
public record RequestLimits(long maxRowsPerRequest, long maxStreamRows) {

  /**
   * 100,000 rows per request (a ranking request is a few hundred candidates); streams unlimited.
   */
  public static final RequestLimits DEFAULT = new RequestLimits(100_000, 0);

  public RequestLimits {
    if (maxRowsPerRequest < 0 || maxStreamRows < 0) {
      throw new IllegalArgumentException(
          "max_rows_per_request: "
              + maxRowsPerRequest
              + ", stream.max_rows: "
              + maxStreamRows
              + " (expected: >= 0, 0 = no limit)");
    }
  }

  /** True when {@code rows} rows may go in one request. */
  public boolean requestFits(long rows) {
    return maxRowsPerRequest == 0 || rows <= maxRowsPerRequest;
  }

  /** True when a stream may read its row number {@code row} (0-based). */
  public boolean streamFits(long row) {
    return maxStreamRows == 0 || row < maxStreamRows;
  }
}
