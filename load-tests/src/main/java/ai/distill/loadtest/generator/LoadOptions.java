package ai.distill.loadtest.generator;

import java.time.Duration;

/**
 * How a run is measured: a warm-up that is never recorded, then windows of {@code window} until the
 * {@link StabilityRule} holds; at most {@code maxOutstanding} requests in flight (a scheduled
 * request beyond that is counted as client-side saturation, not queued); {@code drainTimeout}
 * bounds the wait for a window's last responses; {@code maxRequests} bounds a closed-loop run's
 * count. {@code poissonSeed} null means fixed-rate sends. Immutable.
 */
public record LoadOptions(
    Duration warmup,
    Duration window,
    StabilityRule stability,
    int maxOutstanding,
    Duration drainTimeout,
    long maxRequests,
    Long poissonSeed) {

  public static final LoadOptions DEFAULT =
      new LoadOptions(
          Duration.ofSeconds(2),
          Duration.ofSeconds(2),
          StabilityRule.DEFAULT,
          1024,
          Duration.ofSeconds(10),
          10_000_000L,
          null);

  public LoadOptions {
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup : " + warmup + " (expected: >= 0)");
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window : " + window + " (expected: > 0)");
    }
    if (maxOutstanding < 1) {
      throw new IllegalArgumentException("maxOutstanding : " + maxOutstanding + " (expected: > 0)");
    }
    if (maxRequests < 1) {
      throw new IllegalArgumentException("maxRequests : " + maxRequests + " (expected: > 0)");
    }
  }

  public LoadOptions withWarmup(Duration d) {
    return new LoadOptions(
        d, window, stability, maxOutstanding, drainTimeout, maxRequests, poissonSeed);
  }

  public LoadOptions withWindow(Duration d) {
    return new LoadOptions(
        warmup, d, stability, maxOutstanding, drainTimeout, maxRequests, poissonSeed);
  }

  public LoadOptions withStability(StabilityRule r) {
    return new LoadOptions(
        warmup, window, r, maxOutstanding, drainTimeout, maxRequests, poissonSeed);
  }

  public LoadOptions withMaxOutstanding(int n) {
    return new LoadOptions(warmup, window, stability, n, drainTimeout, maxRequests, poissonSeed);
  }

  public LoadOptions withPoissonSeed(Long seed) {
    return new LoadOptions(
        warmup, window, stability, maxOutstanding, drainTimeout, maxRequests, seed);
  }

  /** The schedule of one window at {@code rate}; Poisson windows use {@code seed + index}. */
  Schedule windowSchedule(double rate, int index) {
    return poissonSeed == null
        ? Schedule.fixedRate(rate, window)
        : Schedule.poisson(rate, window, poissonSeed + index);
  }
}
