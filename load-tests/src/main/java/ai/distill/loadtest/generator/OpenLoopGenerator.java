package ai.distill.loadtest.generator;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends requests at a fixed rate regardless of how fast responses come back (open loop), at
 * precomputed intended times, and measures each latency from its intended start — so a server stall
 * shows up in the latencies of every request that should have been sent during it
 * (coordinated-omission correct). {@link #run} blocks the calling thread, which must not be an
 * event loop; the sender does the I/O. A sender that can schedule gets each send up to {@link
 * #HAND_OFF_NANOS} ahead and makes it on its I/O thread at the intended time. Not reusable
 * concurrently.
 */
public final class OpenLoopGenerator {
  /**
   * How far ahead sends are handed to a sender that {@link RequestSender#canSchedule() schedules}
   * them.
   */
  static final long HAND_OFF_NANOS = 10_000_000L;

  private final RequestSender sender;
  private final LoadOptions options;
  private final NanoClock clock;

  public OpenLoopGenerator(RequestSender sender, LoadOptions options) {
    this(sender, options, NanoClock.SYSTEM);
  }

  OpenLoopGenerator(RequestSender sender, LoadOptions options, NanoClock clock) {
    this.sender = sender;
    this.options = options;
    this.clock = clock;
  }

  /**
   * Warm-up, then windows at {@code rate} until stable or {@code maxWindows}; bounded in time and
   * count.
   */
  public RunResult run(double rate) {
    clock.beforeRun();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicLong sequence = new AtomicLong();
    long start = clock.nanoTime() + 1_000_000;
    long warmupNanos = options.warmup().toNanos();
    MeasurementWindows windows =
        new MeasurementWindows(options, start + warmupNanos, sender.rowsPerRequest(), clock);
    if (warmupNanos > 0) {
      send(
          Schedule.fixedRate(rate, options.warmup()),
          start,
          windows.warmup,
          windows,
          inFlight,
          sequence);
    }
    int max = options.stability().maxWindows();
    for (int k = 0; ; k++) {
      send(
          options.windowSchedule(rate, k),
          windows.windowStart(k),
          windows.recorder(k),
          windows,
          inFlight,
          sequence);
      if (k >= 1) {
        windows.finish(k - 1);
      }
      if (!options.stability().wantsMore(windows.finished)) {
        windows.awaitDrained(
            windows.recorder(k)); // an extra window kept the load continuous; not reported
        break;
      }
      if (k + 1 == max) {
        windows.finish(k);
        break;
      }
    }
    return windows.result("open", rate);
  }

  private void send(
      Schedule schedule,
      long phaseStart,
      WindowRecorder recorder,
      MeasurementWindows windows,
      AtomicInteger inFlight,
      AtomicLong sequence) {
    boolean handOff = sender.canSchedule();
    AtomicLong fired = new AtomicLong();
    for (int i = 0; i < schedule.size(); i++) {
      long intended = phaseStart + schedule.offsetNanos(i);
      if (!handOff) {
        clock.sleepUntil(intended);
        fire(intended, recorder, windows, inFlight, sequence);
        continue;
      }
      // Wake up every HAND_OFF_NANOS / 2 at most and hand over what is due within HAND_OFF_NANOS.
      if (clock.nanoTime() < intended - HAND_OFF_NANOS) {
        clock.sleepUntil(intended - HAND_OFF_NANOS / 2);
      }
      sender.schedule(
          intended,
          () -> {
            fire(intended, recorder, windows, inFlight, sequence);
            fired.incrementAndGet();
          });
    }
    clock.sleepUntil(phaseStart + schedule.durationNanos());
    if (handOff) {
      // The I/O thread may run the last sends a little late: the window is not over before they
      // are.
      long deadline = clock.nanoTime() + options.drainTimeout().toNanos();
      while (fired.get() < schedule.size() && clock.nanoTime() < deadline) {
        clock.sleepUntil(clock.nanoTime() + 100_000);
      }
    }
  }

  private void fire(
      long intended,
      WindowRecorder recorder,
      MeasurementWindows windows,
      AtomicInteger inFlight,
      AtomicLong sequence) {
    if (inFlight.get() >= options.maxOutstanding()) {
      recorder.onClientSaturated();
      return;
    }
    inFlight.incrementAndGet();
    recorder.onSent();
    sender
        .send(sequence.getAndIncrement())
        .onComplete(
            ar -> {
              inFlight.decrementAndGet();
              Outcome outcome =
                  ar.succeeded()
                      ? ar.result()
                      : Outcome.failure(
                          "client:" + ar.cause().getClass().getSimpleName(),
                          intended,
                          clock.nanoTime());
              windows.completed(outcome);
              recorder.record(intended, outcome);
            });
  }
}
