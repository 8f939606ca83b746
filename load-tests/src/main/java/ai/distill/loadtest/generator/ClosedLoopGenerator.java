package ai.distill.loadtest.generator;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps {@code concurrency} requests in flight: each virtual user sends its next request when the
 * previous one completes (closed loop). Latency is measured from the actual send, so it cannot see
 * the requests a stalled server kept users from sending — use it to find maximum throughput, and
 * {@link OpenLoopGenerator} for latency. {@link #run} blocks the calling thread (not an event
 * loop).
 */
public final class ClosedLoopGenerator {
  private final RequestSender sender;
  private final LoadOptions options;
  private final NanoClock clock;

  public ClosedLoopGenerator(RequestSender sender, LoadOptions options) {
    this(sender, options, NanoClock.SYSTEM);
  }

  ClosedLoopGenerator(RequestSender sender, LoadOptions options, NanoClock clock) {
    this.sender = sender;
    this.options = options;
    this.clock = clock;
  }

  /**
   * Warm-up, then windows at {@code concurrency} until stable or {@code maxWindows}; bounded in
   * time and count.
   */
  public RunResult run(int concurrency) {
    if (concurrency < 1 || concurrency > options.maxOutstanding()) {
      throw new IllegalArgumentException(
          "concurrency : " + concurrency + " (expected: 1.." + options.maxOutstanding() + ")");
    }
    clock.beforeRun();
    long start = clock.nanoTime() + 1_000_000;
    MeasurementWindows windows =
        new MeasurementWindows(
            options, start + options.warmup().toNanos(), sender.rowsPerRequest(), clock);
    AtomicBoolean stopped = new AtomicBoolean();
    AtomicLong issued = new AtomicLong();
    clock.sleepUntil(start);
    for (int u = 0; u < concurrency; u++) {
      next(windows, stopped, issued);
    }
    int max = options.stability().maxWindows();
    int last = -1;
    for (int k = 0; k < max; k++) {
      clock.sleepUntil(windows.windowStart(k + 1));
      if (k >= 1) {
        windows.finish(k - 1);
        last = k - 1;
      }
      if (!options.stability().wantsMore(windows.finished)
          || issued.get() >= options.maxRequests()) {
        break;
      }
    }
    stopped.set(true);
    if (last + 1 < max
        && windows.finished.size() < max
        && options.stability().wantsMore(windows.finished)) {
      windows.finish(last + 1);
    }
    windows.awaitDrained(windows.warmup);
    return windows.result("closed", concurrency);
  }

  private void next(MeasurementWindows windows, AtomicBoolean stopped, AtomicLong issued) {
    if (stopped.get()) {
      return;
    }
    long i = issued.getAndIncrement();
    if (i >= options.maxRequests()) {
      return;
    }
    long start = clock.nanoTime();
    WindowRecorder recorder = windows.recorderAt(start);
    if (recorder == null) {
      return;
    }
    recorder.onSent();
    sender
        .send(i)
        .onComplete(
            ar -> {
              Outcome outcome =
                  ar.succeeded()
                      ? ar.result()
                      : Outcome.failure(
                          "client:" + ar.cause().getClass().getSimpleName(),
                          start,
                          clock.nanoTime());
              windows.completed(outcome);
              recorder.record(start, outcome);
              next(windows, stopped, issued);
            });
  }
}
