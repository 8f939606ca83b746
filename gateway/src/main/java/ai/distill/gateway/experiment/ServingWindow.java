package ai.distill.gateway.experiment;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latency (HdrHistogram, 2 significant digits, up to 60 s) and error counts of one variant over a
 * sliding window made of the current and the previous interval, so memory stays fixed. Recording is
 * wait-free ({@link Recorder}); reading and rotating are synchronized.
 */
final class ServingWindow {

  private static final long LOWEST_NANOS = 1_000;
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final long intervalNanos;
  private final Recorder recorder = new Recorder(LOWEST_NANOS, HIGHEST_NANOS, 2);
  private final java.util.concurrent.atomic.LongAdder requests =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder errors =
      new java.util.concurrent.atomic.LongAdder();
  private Histogram current = new Histogram(LOWEST_NANOS, HIGHEST_NANOS, 2);
  private Histogram previous = new Histogram(LOWEST_NANOS, HIGHEST_NANOS, 2);
  private long currentRequests;
  private long currentErrors;
  private long previousRequests;
  private long previousErrors;
  private long intervalStart;
  private Histogram interval;

  ServingWindow(long intervalNanos, long now) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("interval : " + intervalNanos + " ns (expected: > 0)");
    }
    this.intervalNanos = intervalNanos;
    this.intervalStart = now;
  }

  /** One request: its latency (ignored on error) and whether it failed. */
  void record(long latencyNanos, boolean ok) {
    requests.increment();
    if (ok) {
      recorder.recordValue(Math.max(LOWEST_NANOS, Math.min(latencyNanos, HIGHEST_NANOS)));
    } else {
      errors.increment();
    }
  }

  /** What the window holds now. */
  record Snapshot(long requests, long errors, double p50Seconds, double p99Seconds) {
    double errorRate() {
      return requests == 0 ? 0 : (double) errors / requests;
    }
  }

  synchronized Snapshot snapshot(long now) {
    drain();
    if (now - intervalStart >= intervalNanos) {
      Histogram recycled = previous;
      previous = current;
      recycled.reset();
      current = recycled;
      previousRequests = currentRequests;
      previousErrors = currentErrors;
      currentRequests = 0;
      currentErrors = 0;
      intervalStart = now;
    }
    Histogram both = previous.copy();
    both.add(current);
    long n = previousRequests + currentRequests;
    long e = previousErrors + currentErrors;
    if (both.getTotalCount() == 0) {
      return new Snapshot(n, e, Double.NaN, Double.NaN);
    }
    return new Snapshot(
        n, e, both.getValueAtPercentile(50) / 1e9, both.getValueAtPercentile(99) / 1e9);
  }

  private void drain() {
    interval = recorder.getIntervalHistogram(interval);
    current.add(interval);
    currentRequests += requests.sumThenReset();
    currentErrors += errors.sumThenReset();
  }
}
