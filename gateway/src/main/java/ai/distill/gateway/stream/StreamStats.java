package ai.distill.gateway.stream;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the open streams hold right now, NDJSON streams and gRPC {@code ModelStreamInfer} calls
 * alike: streams open, rows parsed but not yet written (NDJSON: the memory a stream holds beyond
 * the socket buffers) with their high-water mark, gRPC messages received and not yet answered, and
 * streams failed because their client stopped reading. Read by tests and the operator; updated by
 * the streams; thread-safe.
 */
public final class StreamStats {

  private final AtomicLong open = new AtomicLong();
  private final AtomicLong bufferedRows = new AtomicLong();
  private final AtomicLong maxBufferedRows = new AtomicLong();
  private final AtomicLong heldMessages = new AtomicLong();
  private final AtomicLong stalled = new AtomicLong();

  /** Streams open now. */
  public long open() {
    return open.get();
  }

  /** NDJSON rows parsed and not yet written, across all streams. */
  public long bufferedRows() {
    return bufferedRows.get();
  }

  /** The most NDJSON rows ever buffered at once. */
  public long maxBufferedRows() {
    return maxBufferedRows.get();
  }

  /** gRPC stream messages received and not yet answered, across all calls. */
  public long heldMessages() {
    return heldMessages.get();
  }

  /** Streams failed because their client stopped reading. */
  public long stalled() {
    return stalled.get();
  }

  /** A stream opened. */
  public void opened() {
    open.incrementAndGet();
  }

  /** A stream closed (after it released what it held). */
  public void closed() {
    open.decrementAndGet();
  }

  void buffered(long delta) {
    long now = bufferedRows.addAndGet(delta);
    maxBufferedRows.accumulateAndGet(now, Math::max);
  }

  /** gRPC messages received ({@code delta > 0}) or answered or dropped ({@code < 0}). */
  public void held(long delta) {
    heldMessages.addAndGet(delta);
  }

  /** A stream was failed because its client stopped reading. */
  public void stalledOne() {
    stalled.incrementAndGet();
  }
}
