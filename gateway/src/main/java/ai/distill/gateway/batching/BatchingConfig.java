package ai.distill.gateway.batching;

/**
 * How one model version's {@link DynamicBatcher} merges requests: a request that finds the
 * batcher idle is dispatched at once; otherwise a batch is dispatched when {@code maxBatchRows}
 * rows are queued or the oldest queued request has waited {@code maxQueueDelayMicros}; at most
 * {@code queueCapacityRows} rows wait at any time.
 * Immutable.
 */
public record BatchingConfig(int maxBatchRows, long maxQueueDelayMicros, int queueCapacityRows) {

  /**
   * 256 rows, 500 µs, 2048 queued rows ({@link #defaultQueueCapacity(int) 8 batches}): a deeper
   * queue holds more than ~50-100 ms of work, which only adds latency under overload.
   */
  public static final BatchingConfig DEFAULT = new BatchingConfig(256, 500, defaultQueueCapacity(256));

  /** The default queue capacity for {@code maxBatchRows}: 8 full batches (at least 64 rows). */
  public static int defaultQueueCapacity(int maxBatchRows) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(64L, 8L * maxBatchRows));
  }

  public BatchingConfig {
    if (maxBatchRows < 1) {
      throw new IllegalArgumentException("max_batch_rows : " + maxBatchRows + " (expected: >= 1)");
    }
    if (maxQueueDelayMicros < 0) {
      throw new IllegalArgumentException(
          "max_queue_delay_us : " + maxQueueDelayMicros + " (expected: >= 0)");
    }
    if (queueCapacityRows < 1) {
      throw new IllegalArgumentException(
          "queue_capacity_rows : " + queueCapacityRows + " (expected: >= 1)");
    }
  }

  public BatchingConfig withMaxBatchRows(int rows) {
    return new BatchingConfig(rows, maxQueueDelayMicros, queueCapacityRows);
  }

  public BatchingConfig withMaxQueueDelayMicros(long micros) {
    return new BatchingConfig(maxBatchRows, micros, queueCapacityRows);
  }

  public BatchingConfig withQueueCapacityRows(int rows) {
    return new BatchingConfig(maxBatchRows, maxQueueDelayMicros, rows);
  }
}
