package ai.distill.loadtest.generator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The windows of one run: a recorder per window, successful completions counted by the wall-clock
 * window they completed in, and the wait for a window's last responses. Thread-safe for recording;
 * finishing is done by the one controlling thread.
 */
final class MeasurementWindows {
  final WindowRecorder warmup = new WindowRecorder();
  private final WindowRecorder[] recorders;
  private final AtomicLongArray okCompleted;
  private final long measureStartNanos;
  private final long windowNanos;
  private final LoadOptions options;
  private final int rowsPerRequest;
  final List<WindowResult> finished = new ArrayList<>();

  private final NanoClock clock;

  MeasurementWindows(
      LoadOptions options, long measureStartNanos, int rowsPerRequest, NanoClock clock) {
    this.clock = clock;
    this.options = options;
    this.measureStartNanos = measureStartNanos;
    this.windowNanos = options.window().toNanos();
    this.rowsPerRequest = rowsPerRequest;
    int n = options.stability().maxWindows();
    recorders = new WindowRecorder[n];
    for (int i = 0; i < n; i++) {
      recorders[i] = new WindowRecorder();
    }
    okCompleted = new AtomicLongArray(n);
  }

  long windowStart(int index) {
    return measureStartNanos + index * windowNanos;
  }

  WindowRecorder recorder(int index) {
    return recorders[index];
  }

  /**
   * The recorder for a request started at {@code nanos} (warm-up before the first window, null
   * after the last).
   */
  WindowRecorder recorderAt(long nanos) {
    if (nanos < measureStartNanos) {
      return warmup;
    }
    long index = (nanos - measureStartNanos) / windowNanos;
    return index < recorders.length ? recorders[(int) index] : null;
  }

  void completed(Outcome outcome) {
    if (!outcome.ok() || outcome.doneNanos() < measureStartNanos) {
      return;
    }
    long index = (outcome.doneNanos() - measureStartNanos) / windowNanos;
    if (index < recorders.length) {
      okCompleted.incrementAndGet((int) index);
    }
  }

  /**
   * Waits (bounded by the drain timeout) for window {@code index}'s responses, then keeps its
   * result.
   */
  void finish(int index) {
    awaitDrained(recorders[index]);
    finished.add(
        recorders[index].snapshot(
            index, windowNanos / 1e9, okCompleted.get(index), rowsPerRequest));
  }

  void awaitDrained(WindowRecorder recorder) {
    long deadline = clock.nanoTime() + options.drainTimeout().toNanos();
    while (recorder.pending() > 0 && clock.nanoTime() < deadline) {
      clock.sleepUntil(clock.nanoTime() + 1_000_000);
    }
  }

  RunResult result(String mode, double load) {
    StabilityRule rule = options.stability();
    return new RunResult(
        mode,
        load,
        List.copyOf(finished),
        rule.isStable(finished),
        WindowResult.merge(rule.lastWindows(finished)));
  }
}
