package ai.distill.gateway.stream;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the open streams hold right now: streams, and rows parsed but not yet written (the memory a
 * stream holds beyond the socket buffers), with the high-water mark of the latter. Read by tests
 * and the operator; thread-safe.
 */
public final class StreamStats {

  private final AtomicLong open = new AtomicLong();
  private final AtomicLong bufferedRows = new AtomicLong();
  private final AtomicLong maxBufferedRows = new AtomicLong();
  private final AtomicLong stalled = new AtomicLong();

  /** Streams open now. */
  public long open() {
    return open.get();
  }

  /** Rows parsed and not yet written, across all streams. */
  public long bufferedRows() {
    return bufferedRows.get();
  }

  /** The most rows ever buffered at once. */
  public long maxBufferedRows() {
    return maxBufferedRows.get();
  }

  /** Streams failed because their client stopped reading. */
  public long stalled() {
    return stalled.get();
  }

  void opened() {
    open.incrementAndGet();
  }

  void closed() {
    open.decrementAndGet();
  }

  void buffered(long delta) {
    long now = bufferedRows.addAndGet(delta);
    maxBufferedRows.accumulateAndGet(now, Math::max);
  }

  void stalledOne() {
    stalled.incrementAndGet();
  }
}
