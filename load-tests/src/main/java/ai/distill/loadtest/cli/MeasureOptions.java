package ai.distill.loadtest.cli;

import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.StabilityRule;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Warm-up, measurement windows and the stability rule. */
final class MeasureOptions {
  @Option(
      names = "--warmup",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "Warm-up, never recorded (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--window",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "Measurement window (default: ${DEFAULT-VALUE}).")
  Duration window;

  @Option(
      names = "--stable-windows",
      defaultValue = "3",
      description = "Windows that must agree (default: ${DEFAULT-VALUE}).")
  int stableWindows;

  @Option(
      names = "--stability",
      defaultValue = "0.10",
      description =
          "Tolerance on throughput and p99 between those windows (default: ${DEFAULT-VALUE}).")
  double tolerance;

  @Option(
      names = "--max-windows",
      defaultValue = "10",
      description =
          "Give up (report unstable) after this many windows (default: ${DEFAULT-VALUE}).")
  int maxWindows;

  @Option(
      names = "--poisson",
      description = "Poisson arrivals (seeded by --seed) instead of fixed spacing.")
  boolean poisson;

  LoadOptions options(TargetOptions target) {
    return new LoadOptions(
        warmup,
        window,
        new StabilityRule(stableWindows, tolerance, maxWindows),
        target.maxOutstanding,
        target.timeout.plusSeconds(1),
        50_000_000L,
        poisson ? target.seed : null);
  }
}
