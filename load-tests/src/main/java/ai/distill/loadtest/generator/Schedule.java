package ai.distill.loadtest.generator;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The intended send times of an open-loop run, as nanosecond offsets from the run's start,
 * precomputed so that the generator never decides "when" based on how the server behaves (that is
 * what keeps the measurement free of coordinated omission). Immutable.
 *
 * <pre>{@code
 * Schedule s = Schedule.fixedRate(500, Duration.ofSeconds(2)); // 1000 sends, 2 ms apart
 * Schedule p = Schedule.poisson(500, Duration.ofSeconds(2), 42); // seeded exponential gaps
 * }</pre>
 */
public final class Schedule {
  private final long[] offsetsNanos;
  private final long durationNanos;

  private Schedule(long[] offsetsNanos, long durationNanos) {
    this.offsetsNanos = offsetsNanos;
    this.durationNanos = durationNanos;
  }

  /**
   * {@code floor(rate × duration)} sends at exactly {@code i × 1e9 / rate} ns (no accumulated
   * drift).
   */
  public static Schedule fixedRate(double ratePerSecond, Duration duration) {
    checkRate(ratePerSecond);
    long durationNanos = checkDuration(duration);
    long count = (long) Math.floor(ratePerSecond * durationNanos / 1e9 + 1e-9);
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("rate × duration : " + count + " (expected: < 2^31)");
    }
    long[] offsets = new long[(int) count];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = (long) Math.floor(i * 1e9 / ratePerSecond);
    }
    return new Schedule(offsets, durationNanos);
  }

  /**
   * Poisson arrivals at mean {@code rate}: exponential gaps from a generator seeded with {@code
   * seed}, so the same seed gives the same schedule. Arrivals at or after {@code duration} are cut.
   */
  public static Schedule poisson(double ratePerSecond, Duration duration, long seed) {
    checkRate(ratePerSecond);
    long durationNanos = checkDuration(duration);
    SplittableRandom random = new SplittableRandom(seed);
    long[] offsets =
        new long[Math.max(16, (int) Math.min(1 << 24, ratePerSecond * durationNanos / 1e9 * 1.2))];
    int n = 0;
    double t = 0;
    while (true) {
      t += -Math.log(1.0 - random.nextDouble()) / ratePerSecond * 1e9;
      if (t >= durationNanos) {
        break;
      }
      if (n == offsets.length) {
        offsets = Arrays.copyOf(offsets, offsets.length * 2);
      }
      offsets[n++] = (long) t;
    }
    return new Schedule(Arrays.copyOf(offsets, n), durationNanos);
  }

  /**
   * This schedule followed by {@code next}, whose offsets are shifted by this schedule's duration.
   */
  public Schedule then(Schedule next) {
    long[] joined = Arrays.copyOf(offsetsNanos, offsetsNanos.length + next.offsetsNanos.length);
    for (int i = 0; i < next.offsetsNanos.length; i++) {
      joined[offsetsNanos.length + i] = durationNanos + next.offsetsNanos[i];
    }
    return new Schedule(joined, durationNanos + next.durationNanos);
  }

  public int size() {
    return offsetsNanos.length;
  }

  /** The intended send time of the {@code i}-th request, in ns from the schedule's start. */
  public long offsetNanos(int i) {
    return offsetsNanos[i];
  }

  public long durationNanos() {
    return durationNanos;
  }

  private static void checkRate(double rate) {
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("rate : " + rate + " (expected: > 0 requests per second)");
    }
  }

  private static long checkDuration(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("duration : " + duration + " (expected: > 0)");
    }
    return duration.toNanos();
  }
}
