package ai.distill.gateway.batching;

/**
 * How one model version's {@link DynamicBatcher} merges requests: a batch is dispatched when
 * {@code maxBatchRows} rows are queued or the oldest queued request has waited
 * {@code maxQueueDelayMicros}; at most {@code queueCapacityRows} rows wait at any time.
 * Immutable.
 */
public record BatchingConfig(int maxBatchRows, long maxQueueDelayMicros, int queueCapacityRows) {

  /** 256 rows, 500 µs, 16384 queued rows. */
  public static final BatchingConfig DEFAULT = new BatchingConfig(256, 500, 16_384);

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
