package ai.distill.loadtest.scenario;

import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import java.util.ArrayList;
import java.util.List;

/**
 * Sweeps load upwards until the gateway saturates. Open loop: offered rates in order; a step is
 * saturated when it achieves less than {@link #ACHIEVED_FRACTION} of the offered rate, more than
 * {@link #MAX_ERROR_RATE} of its requests fail, or the client hit its outstanding bound; the sweep
 * stops at the first saturated step. Closed loop: concurrencies in order until throughput stops
 * growing by {@link #MIN_GAIN}. Stateless.
 */
public final class RampScenario {
  public static final double ACHIEVED_FRACTION = 0.95;
  public static final double MAX_ERROR_RATE = 0.01;
  public static final double MIN_GAIN = 1.05;

  /**
   * Where the sweep ended.
   *
   * @param saturationLoad the highest unsaturated rate (open) or the concurrency with the best
   *     throughput (closed); when even the first step saturated, that step's achieved throughput
   * @param maxThroughput the best achieved requests/s of any step
   * @param maxRowsPerSecond the best achieved rows/s of any step
   */
  public record Outcome(
      double saturationLoad,
      double maxThroughput,
      double maxRowsPerSecond,
      List<Measurement> steps) {}

  private RampScenario() {}

  /** Geometric rates {@code start, start·factor, ...}, {@code steps} of them. */
  public static List<Double> geometric(double start, double factor, int steps) {
    List<Double> rates = new ArrayList<>();
    double r = start;
    for (int i = 0; i < steps; i++) {
      rates.add((double) Math.round(r * 10) / 10);
      r *= factor;
    }
    return rates;
  }

  public static boolean saturated(Measurement m) {
    long attempted = m.sent() + m.clientSaturated();
    return m.throughput() < ACHIEVED_FRACTION * m.load()
        || m.errors() > MAX_ERROR_RATE * Math.max(1, m.sent())
        || m.clientSaturated() > 0.001 * attempted;
  }

  public static Outcome openLoop(
      GatewayTarget target,
      LoadOptions options,
      List<Double> rates,
      String group,
      BenchmarkResult out) {
    List<Measurement> steps = new ArrayList<>();
    double saturation = -1;
    for (double rate : rates) {
      OpenLoopGenerator generator = new OpenLoopGenerator(target.sender(false), options);
      Measurement m = target.measure(group, () -> generator.run(rate));
      steps.add(m);
      out.add(m);
      progress(m);
      if (saturated(m)) {
        break;
      }
      saturation = rate;
    }
    double maxThroughput = steps.stream().mapToDouble(Measurement::throughput).max().orElse(0);
    double maxRows = steps.stream().mapToDouble(Measurement::rowsPerSecond).max().orElse(0);
    return new Outcome(
        saturation > 0 ? saturation : steps.get(0).throughput(), maxThroughput, maxRows, steps);
  }

  public static Outcome closedLoop(
      GatewayTarget target,
      LoadOptions options,
      List<Integer> concurrencies,
      String group,
      BenchmarkResult out) {
    List<Measurement> steps = new ArrayList<>();
    Measurement best = null;
    for (int c : concurrencies) {
      ClosedLoopGenerator generator = new ClosedLoopGenerator(target.sender(false), options);
      Measurement m = target.measure(group, () -> generator.run(c));
      steps.add(m);
      out.add(m);
      progress(m);
      if (best != null && m.throughput() < MIN_GAIN * best.throughput()) {
        if (m.throughput() > best.throughput()) {
          best = m;
        }
        break;
      }
      best = m;
    }
    return new Outcome(best.load(), best.throughput(), best.rowsPerSecond(), steps);
  }

  static void progress(Measurement m) {
    System.err.printf(
        java.util.Locale.ROOT,
        "  %-8s %-12s %-16s %9.1f req/s %10.0f rows/s  p99 %8.3f ms  errors %s%n",
        m.group(),
        m.variant(),
        m.loadLabel(),
        m.throughput(),
        m.rowsPerSecond(),
        m.latency().p99(),
        m.errorSummary());
  }
}
