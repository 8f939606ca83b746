package ai.distill.gateway.batching;

/**
 * How one model version's {@link DynamicBatcher} merges requests: a request that finds the batcher
 * idle is dispatched at once; otherwise a batch is dispatched, while a worker is free, when {@code
 * maxBatchRows} rows are queued or the oldest queued request has waited {@code maxQueueDelayMicros}
 * (0, the default: at once, with whatever queued while the workers were busy); at most {@code
 * queueCapacityRows} rows wait at any time. Immutable.
 */
public record BatchingConfig(int maxBatchRows, long maxQueueDelayMicros, int queueCapacityRows) {

  /**
   * 256 rows, no queue delay, 2048 queued rows ({@link #defaultQueueCapacity(int) 8 batches}). No
   * delay makes the batcher work-conserving: a free worker takes everything queued (up to 256 rows)
   * at once, so batches grow by themselves exactly when the workers are the bottleneck, and a
   * worker never idles while requests wait. On CPU, ORT's rows/s barely depends on the batch size
   * beyond a few dozen rows (the fixture MLP: 178k rows/s at 64 rows, 173k at 252), so holding
   * requests back only added latency and, at 75% of saturation, lost throughput. A deeper queue
   * holds more than ~50-100 ms of work, which only adds latency under overload.
   */
  public static final BatchingConfig DEFAULT =
      new BatchingConfig(256, 0, defaultQueueCapacity(256));

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
