package ai.distill.loadtest.generator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Open-loop load whose rate changes by phase (e.g. base → 2× saturation → base for a spike), with
 * results per phase and per short bucket (by intended send time) so recovery can be timed.
 * Latencies are measured from intended starts, as in {@link OpenLoopGenerator}. {@link #run} blocks
 * the calling thread (not an event loop); bounded by the phases' total duration plus the drain
 * timeout.
 */
public final class PhasedLoad {
  /** One phase: a name, an offered rate, and how long it lasts. */
  public record Phase(String name, double rate, Duration duration) {}

  /**
   * Per-phase and per-bucket results; buckets are {@code bucket} long, contiguous from the first
   * phase's start.
   */
  public record Result(
      List<Phase> phases,
      List<WindowResult> perPhase,
      Duration bucket,
      List<WindowResult> buckets) {

    /** The result of the phase named {@code name}. */
    public WindowResult phase(String name) {
      for (int i = 0; i < phases.size(); i++) {
        if (phases.get(i).name().equals(name)) {
          return perPhase.get(i);
        }
      }
      throw new IllegalArgumentException(
          "phase : "
              + name
              + " (expected one of "
              + phases.stream().map(Phase::name).toList()
              + ")");
    }

    /** The bucket index at which phase {@code name} starts. */
    public int firstBucket(String name) {
      long nanos = 0;
      for (Phase p : phases) {
        if (p.name().equals(name)) {
          return (int) (nanos / bucket.toNanos());
        }
        nanos += p.duration().toNanos();
      }
      throw new IllegalArgumentException("phase : " + name);
    }
  }

  private final RequestSender sender;
  private final int maxOutstanding;
  private final Duration drainTimeout;
  private final Duration bucket;
  private final NanoClock clock;

  public PhasedLoad(
      RequestSender sender, int maxOutstanding, Duration drainTimeout, Duration bucket) {
    this(sender, maxOutstanding, drainTimeout, bucket, NanoClock.SYSTEM);
  }

  PhasedLoad(
      RequestSender sender,
      int maxOutstanding,
      Duration drainTimeout,
      Duration bucket,
      NanoClock clock) {
    this.clock = clock;
    this.sender = sender;
    this.maxOutstanding = maxOutstanding;
    this.drainTimeout = drainTimeout;
    this.bucket = bucket;
  }

  public Result run(List<Phase> phases) {
    if (phases.isEmpty()) {
      throw new IllegalArgumentException("phases : [] (expected: at least one phase)");
    }
    long total = phases.stream().mapToLong(p -> p.duration().toNanos()).sum();
    long bucketNanos = bucket.toNanos();
    int bucketCount = (int) ((total + bucketNanos - 1) / bucketNanos);
    WindowRecorder[] phaseRecorders = new WindowRecorder[phases.size()];
    WindowRecorder[] bucketRecorders = new WindowRecorder[bucketCount];
    for (int i = 0; i < phaseRecorders.length; i++) {
      phaseRecorders[i] = new WindowRecorder();
    }
    for (int i = 0; i < bucketRecorders.length; i++) {
      bucketRecorders[i] = new WindowRecorder();
    }
    long[] phaseStarts = new long[phases.size() + 1];
    for (int i = 0; i < phases.size(); i++) {
      phaseStarts[i + 1] = phaseStarts[i] + phases.get(i).duration().toNanos();
    }
    AtomicLongArray okInPhase = new AtomicLongArray(phases.size());
    AtomicLongArray okInBucket = new AtomicLongArray(bucketCount);
    AtomicInteger inFlight = new AtomicInteger();
    long start = clock.nanoTime() + 1_000_000;
    long sequence = 0;
    for (int p = 0; p < phases.size(); p++) {
      Schedule schedule = Schedule.fixedRate(phases.get(p).rate(), phases.get(p).duration());
      WindowRecorder phaseRecorder = phaseRecorders[p];
      for (int i = 0; i < schedule.size(); i++) {
        long offset = phaseStarts[p] + schedule.offsetNanos(i);
        long intended = start + offset;
        WindowRecorder bucketRecorder =
            bucketRecorders[(int) Math.min(bucketCount - 1, offset / bucketNanos)];
        clock.sleepUntil(intended);
        if (inFlight.get() >= maxOutstanding) {
          phaseRecorder.onClientSaturated();
          bucketRecorder.onClientSaturated();
          continue;
        }
        inFlight.incrementAndGet();
        phaseRecorder.onSent();
        bucketRecorder.onSent();
        sender
            .send(sequence++)
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
                  if (outcome.ok()) {
                    long doneOffset = outcome.doneNanos() - start;
                    for (int q = 0; q < phases.size(); q++) {
                      if (doneOffset >= phaseStarts[q] && doneOffset < phaseStarts[q + 1]) {
                        okInPhase.incrementAndGet(q);
                      }
                    }
                    long b = doneOffset / bucketNanos;
                    if (b >= 0 && b < bucketCount) {
                      okInBucket.incrementAndGet((int) b);
                    }
                  }
                  phaseRecorder.record(intended, outcome);
                  bucketRecorder.record(intended, outcome);
                });
      }
    }
    clock.sleepUntil(start + total);
    long deadline = clock.nanoTime() + drainTimeout.toNanos();
    while (inFlight.get() > 0 && clock.nanoTime() < deadline) {
      clock.sleepUntil(clock.nanoTime() + 1_000_000);
    }
    int rows = sender.rowsPerRequest();
    List<WindowResult> perPhase = new ArrayList<>();
    for (int p = 0; p < phases.size(); p++) {
      perPhase.add(
          phaseRecorders[p].snapshot(
              p, phases.get(p).duration().toNanos() / 1e9, okInPhase.get(p), rows));
    }
    List<WindowResult> buckets = new ArrayList<>();
    for (int b = 0; b < bucketCount; b++) {
      buckets.add(bucketRecorders[b].snapshot(b, bucketNanos / 1e9, okInBucket.get(b), rows));
    }
    return new Result(List.copyOf(phases), perPhase, bucket, buckets);
  }

  /**
   * How long after bucket {@code from} the run took to become healthy again: the time until the
   * first bucket from which {@code settle} consecutive buckets all have no errors, no client
   * saturation and a p99 within {@code p99LimitMs}; -1 when that never happened.
   */
  public static double recoverySeconds(Result result, int from, int settle, double p99LimitMs) {
    List<WindowResult> buckets = result.buckets();
    for (int b = from; b + settle <= buckets.size(); b++) {
      boolean healthy = true;
      for (int k = b; k < b + settle && healthy; k++) {
        WindowResult w = buckets.get(k);
        healthy = w.errors() == 0 && w.clientSaturated() == 0 && w.p99Millis() <= p99LimitMs;
      }
      if (healthy) {
        return (b - from) * result.bucket().toNanos() / 1e9;
      }
    }
    return -1;
  }
}
