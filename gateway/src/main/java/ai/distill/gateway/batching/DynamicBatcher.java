package ai.distill.gateway.batching;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;

/**
 * Merges queued requests of one model version into batches of at most {@code max_batch_rows} rows
 * and runs them with a {@link BatchRunner} on a worker executor ({@code executeBlocking(...,
 * false)}), never on an event loop.
 *
 * <pre>{@code
 * DynamicBatcher<Req, Out> batcher = new DynamicBatcher<>("ctr:1", vertx, workers, 2, timer,
 *     BatchingConfig.DEFAULT, Req::rows, batch -> run(batch), BatchObserver.NONE);
 * Future<Out> out = batcher.submit(request); // fails with QueueFullException when full
 * }</pre>
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread; state changes are guarded by one
 * lock held only for queue bookkeeping. The queue is bounded in rows; a full queue fails the
 * request at once with {@link QueueFullException}. Each request's future completes on the Vert.x
 * context that submitted it. At most {@code maxConcurrentBatches} batches of this batcher run at
 * once; while they run, new requests queue up and form larger batches.
 *
 * <p>When to dispatch: a request that finds the batcher idle (nothing running, nothing queued) goes
 * at once. Otherwise queued requests wait, while a worker is free, until they fill {@code
 * max_batch_rows} or the oldest has waited {@code max_queue_delay_us}; with the default delay of 0
 * that is at once, so a free worker takes whatever queued while the workers were busy
 * (work-conserving).
 */
public final class DynamicBatcher<I, O> {

  private final String name;
  private final Vertx vertx;
  private final WorkerExecutor workers;
  private final int maxConcurrentBatches;
  private final ScheduledExecutorService timer;
  private final BatchingConfig config;
  private final ToIntFunction<I> rowCounter;
  private final BatchRunner<I, O> runner;
  private final BatchObserver observer;
  private final long maxDelayNanos;

  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Pending<I, O>> queue = new ArrayDeque<>();
  private int queuedRows;
  private int runningBatches;
  private ScheduledFuture<?> flushTimer;
  private boolean closed;
  private boolean expedited;
  private final Promise<Void> drained = Promise.promise();

  public DynamicBatcher(
      String name,
      Vertx vertx,
      WorkerExecutor workers,
      int maxConcurrentBatches,
      ScheduledExecutorService timer,
      BatchingConfig config,
      ToIntFunction<I> rowCounter,
      BatchRunner<I, O> runner,
      BatchObserver observer) {
    if (maxConcurrentBatches < 1) {
      throw new IllegalArgumentException(
          "maxConcurrentBatches : " + maxConcurrentBatches + " (expected: >= 1)");
    }
    this.name = Objects.requireNonNull(name, "name");
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.workers = Objects.requireNonNull(workers, "workers");
    this.maxConcurrentBatches = maxConcurrentBatches;
    this.timer = Objects.requireNonNull(timer, "timer");
    this.config = Objects.requireNonNull(config, "config");
    this.rowCounter = Objects.requireNonNull(rowCounter, "rowCounter");
    this.runner = Objects.requireNonNull(runner, "runner");
    this.observer = Objects.requireNonNull(observer, "observer");
    this.maxDelayNanos = TimeUnit.MICROSECONDS.toNanos(config.maxQueueDelayMicros());
  }

  /** The configuration this batcher was built with. */
  public BatchingConfig config() {
    return config;
  }

  /**
   * Queues {@code request}; the future completes with its result, or fails with {@link
   * QueueFullException} (no room), {@link BatcherClosedException} (draining) or whatever the runner
   * threw for its batch.
   */
  public Future<O> submit(I request) {
    return submitTimed(request).map(Timed::value);
  }

  /**
   * What a request cost the model: its result, how long it waited in the queue and how long the
   * batch that ran it took (the whole batch's run time, shared by every request in it).
   */
  public record Timed<O>(O value, long queueNanos, long computeNanos) {}

  /**
   * As {@link #submit}, with the request's queue wait and its batch's compute time: what the model
   * itself cost this request, without decoding, encoding or event-loop time.
   */
  public Future<Timed<O>> submitTimed(I request) {
    int rows = rowCounter.applyAsInt(request);
    Context context = vertx.getOrCreateContext();
    Pending<I, O> pending = new Pending<>(request, rows, context, System.nanoTime());
    List<List<Pending<I, O>>> ready;
    lock.lock();
    try {
      if (closed) {
        return Future.failedFuture(new BatcherClosedException(name));
      }
      // A request larger than the whole queue is still accepted when the queue is empty,
      // so that it can never be refused forever.
      if (queuedRows > 0 && queuedRows + rows > config.queueCapacityRows()) {
        return Future.failedFuture(
            new QueueFullException(name, queuedRows, config.queueCapacityRows(), 1));
      }
      boolean idle = runningBatches == 0 && queue.isEmpty();
      queue.addLast(pending);
      queuedRows += rows;
      observer.queueDepth(queue.size(), queuedRows);
      ready = takeReadyBatches(pending.enqueuedNanos, idle);
    } finally {
      lock.unlock();
    }
    launch(ready);
    return pending.promise.future();
  }

  /**
   * Admission check before a request is decoded: fails with {@link QueueFullException} when the
   * queue could not take even a one-row request now (so that a refused request costs no decode
   * work), with {@link BatcherClosedException} when draining. A pass does not reserve room: {@link
   * #submit} checks again.
   */
  public void checkAdmission() {
    lock.lock();
    try {
      if (closed) {
        throw new BatcherClosedException(name);
      }
      if (queuedRows > 0 && queuedRows + 1 > config.queueCapacityRows()) {
        throw new QueueFullException(name, queuedRows, config.queueCapacityRows(), 1);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Batches currently running (inside the runner). */
  public int runningBatches() {
    lock.lock();
    try {
      return runningBatches;
    } finally {
      lock.unlock();
    }
  }

  /** Requests currently queued (not yet running). */
  public int queuedRequests() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Dispatches what is queued now and every later request without waiting for the queue delay
   * (still accepting requests): used when shutting down, so that in-flight requests are not held
   * back by the delay while the server waits for them. Idempotent.
   */
  public void expedite() {
    List<List<Pending<I, O>>> ready;
    lock.lock();
    try {
      expedited = true;
      ready = takeReadyBatches(System.nanoTime(), false);
    } finally {
      lock.unlock();
    }
    launch(ready);
  }

  /**
   * Stops accepting requests, runs everything still queued without waiting for the delay, and
   * completes once no request is queued or running. Idempotent.
   */
  public Future<Void> drain() {
    List<List<Pending<I, O>>> ready;
    boolean idle;
    lock.lock();
    try {
      closed = true;
      ready = takeReadyBatches(System.nanoTime(), false);
      idle = drainedIdle();
    } finally {
      lock.unlock();
    }
    if (idle) {
      drained.tryComplete();
    }
    launch(ready);
    return drained.future();
  }

  // Called with the lock held. Returns the batches to launch once the lock is released.
  // idleSubmit: the request just queued found nothing running and nothing queued.
  private List<List<Pending<I, O>>> takeReadyBatches(long now, boolean idleSubmit) {
    List<List<Pending<I, O>>> ready = null;
    while (runningBatches < maxConcurrentBatches && !queue.isEmpty()) {
      Pending<I, O> oldest = queue.peekFirst();
      // A request that finds the batcher idle goes at once: waiting for the delay would only
      // add latency, and requests arriving while it runs queue up and merge. Under load (a
      // batch finishes with requests queued) the queue waits to fill, so batches stay large.
      boolean due =
          closed
              || expedited
              || idleSubmit
              || queuedRows >= config.maxBatchRows()
              || now - oldest.enqueuedNanos >= maxDelayNanos;
      if (!due) {
        armTimer(oldest.enqueuedNanos + maxDelayNanos - now);
        break;
      }
      List<Pending<I, O>> batch = new ArrayList<>();
      int rows = 0;
      while (!queue.isEmpty()
          && (batch.isEmpty() || rows + queue.peekFirst().rows <= config.maxBatchRows())) {
        Pending<I, O> next = queue.pollFirst();
        rows += next.rows;
        batch.add(next);
      }
      queuedRows -= rows;
      runningBatches++;
      if (ready == null) {
        ready = new ArrayList<>(2);
      }
      ready.add(batch);
    }
    if (ready != null) {
      observer.queueDepth(queue.size(), queuedRows);
    }
    return ready == null ? List.of() : ready;
  }

  private void armTimer(long delayNanos) {
    if (flushTimer == null) {
      flushTimer = timer.schedule(this::onTimer, Math.max(delayNanos, 1), TimeUnit.NANOSECONDS);
    }
  }

  private void onTimer() {
    List<List<Pending<I, O>>> ready;
    lock.lock();
    try {
      flushTimer = null;
      ready = takeReadyBatches(System.nanoTime(), false);
    } finally {
      lock.unlock();
    }
    launch(ready);
  }

  private void launch(List<List<Pending<I, O>>> batches) {
    for (List<Pending<I, O>> batch : batches) {
      long now = System.nanoTime();
      List<I> requests = new ArrayList<>(batch.size());
      int rows = 0;
      for (Pending<I, O> p : batch) {
        p.queueNanos = now - p.enqueuedNanos;
        observer.queueWait(p.queueNanos);
        requests.add(p.request);
        rows += p.rows;
      }
      int batchRows = rows;
      long[] computeNanos = new long[1]; // written on the worker, read after it completes
      workers
          .<List<Object>>executeBlocking(
              () -> {
                long start = System.nanoTime();
                try {
                  return runIsolated(requests, batchRows);
                } finally {
                  computeNanos[0] = System.nanoTime() - start;
                }
              },
              false)
          .onComplete(
              ar ->
                  finish(batch, ar.succeeded() ? ar.result() : null, ar.cause(), computeNanos[0]));
    }
  }

  // Runs on a worker. Returns one entry per request: its result, or a Failed holding what it
  // threw. When a merged batch fails, each request runs alone so that one bad request does not
  // fail the others that happened to share its batch.
  private List<Object> runIsolated(List<I> requests, int rows) {
    long start = System.nanoTime();
    try {
      return new ArrayList<>(checked(runner.run(requests), requests.size()));
    } catch (Throwable e) {
      if (requests.size() == 1) {
        return List.of(new Failed(e));
      }
    } finally {
      observer.batchRan(rows, System.nanoTime() - start);
    }
    List<Object> outcomes = new ArrayList<>(requests.size());
    for (I request : requests) {
      try {
        outcomes.add(checked(runner.run(List.of(request)), 1).get(0));
      } catch (Throwable e) {
        outcomes.add(new Failed(e));
      }
    }
    return outcomes;
  }

  private static <O> List<O> checked(List<O> outputs, int expected) {
    if (outputs == null || outputs.size() != expected) {
      throw new IllegalStateException(
          "batch runner returned "
              + (outputs == null ? "null" : outputs.size())
              + " results for "
              + expected
              + " requests");
    }
    return outputs;
  }

  @SuppressWarnings("unchecked")
  private void finish(
      List<Pending<I, O>> batch, List<Object> outcomes, Throwable failure, long computeNanos) {
    for (int i = 0; i < batch.size(); i++) {
      Pending<I, O> p = batch.get(i);
      Object outcome = failure != null ? new Failed(failure) : outcomes.get(i);
      if (outcome instanceof Failed f) {
        p.context.runOnContext(v -> p.promise.fail(f.cause));
      } else {
        Timed<O> out = new Timed<>((O) outcome, p.queueNanos, computeNanos);
        p.context.runOnContext(v -> p.promise.complete(out));
      }
    }
    List<List<Pending<I, O>>> ready;
    boolean idle;
    lock.lock();
    try {
      runningBatches--;
      ready = takeReadyBatches(System.nanoTime(), false);
      idle = drainedIdle();
    } finally {
      lock.unlock();
    }
    if (idle) {
      drained.tryComplete();
    }
    launch(ready);
  }

  // Called with the lock held.
  private boolean drainedIdle() {
    if (closed && queue.isEmpty() && runningBatches == 0) {
      if (flushTimer != null) {
        flushTimer.cancel(false);
        flushTimer = null;
      }
      return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return "DynamicBatcher[" + name + "]";
  }

  private record Failed(Throwable cause) {}

  private static final class Pending<I, O> {
    final I request;
    final int rows;
    final Context context;
    final long enqueuedNanos;
    long queueNanos; // set when its batch launches
    final Promise<Timed<O>> promise = Promise.promise();

    Pending(I request, int rows, Context context, long enqueuedNanos) {
      this.request = request;
      this.rows = rows;
      this.context = context;
      this.enqueuedNanos = enqueuedNanos;
    }
  }
}
