package ai.distill.gateway.batching;

/**
 * Receives what a {@link DynamicBatcher} does, for metrics. Called from event-loop, timer and
 * worker threads; implementations must be thread-safe and must not block.
 */
public interface BatchObserver {

  /** A no-op observer. */
  BatchObserver NONE = new BatchObserver() {};

  /** The queue now holds {@code requests} requests with {@code rows} rows in total. */
  default void queueDepth(int requests, int rows) {}

  /** A request left the queue after waiting {@code nanos}. */
  default void queueWait(long nanos) {}

  /** A batch of {@code rows} rows ran for {@code nanos} (successfully or not). */
  default void batchRan(int rows, long nanos) {}
}
