package ai.distill.gateway.stream;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * A bounded window of in-flight work whose results are emitted in submission order, whatever order
 * they complete in: the in-order, bounded core of every stream (NDJSON micro-batches, gRPC stream
 * messages). The owner stops reading its input while {@link #full()} and resumes when results
 * leave. Not thread-safe: use it, and complete the futures, on one event loop.
 *
 * @param <T> the result of one unit of work
 */
public final class OrderedWindow<T> {

  private final int capacity;
  private final Consumer<AsyncResult<T>> emit;
  private final ArrayDeque<Future<T>> slots = new ArrayDeque<>();
  private boolean cancelled;

  /**
   * @param capacity most units in flight (submitted, not yet emitted)
   * @param emit receives each unit's outcome, in submission order
   */
  public OrderedWindow(int capacity, Consumer<AsyncResult<T>> emit) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity : " + capacity + " (expected: >= 1)");
    }
    this.capacity = capacity;
    this.emit = emit;
  }

  /** Adds a unit of work; its outcome is emitted once every earlier unit's has been. */
  public void add(Future<T> work) {
    slots.addLast(work);
    work.onComplete(ar -> drain());
  }

  /** True when no more work should be added until some is emitted. */
  public boolean full() {
    return slots.size() >= capacity;
  }

  /** Units submitted and not yet emitted. */
  public int size() {
    return slots.size();
  }

  public boolean isEmpty() {
    return slots.isEmpty();
  }

  /** Drops everything pending: nothing more is emitted (the work itself still completes). */
  public void cancel() {
    cancelled = true;
    slots.clear();
  }

  private void drain() {
    while (!cancelled && !slots.isEmpty() && slots.peekFirst().isComplete()) {
      emit.accept(slots.pollFirst());
    }
  }
}
