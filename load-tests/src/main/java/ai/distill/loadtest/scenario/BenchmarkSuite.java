package ai.distill.loadtest.scenario;

import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The standard benchmark: an unrecorded warm-up, a closed-loop concurrency sweep for maximum
 * throughput, the in-process baseline, an open-loop ramp relative to the closed-loop maximum (0.25×
 * … 4×) to find saturation, a run at half of saturation for latency (and, when it may publish into
 * the store, the same run on a trivial model: the latency floor without the model), a spike at 2×
 * saturation, the variants side by side and a hot swap under load; then the issue's targets as
 * checks. Stateless.
 */
public final class BenchmarkSuite {
  /** Which parts run, and how. */
  public record Plan(
      Path modelFile,
      Path store,
      int intraOpThreads,
      int workers,
      List<String> variants,
      boolean spike,
      boolean hotswap,
      Duration spikeDuration,
      int hotswapSeconds) {}

  /**
   * Open-loop rates as fractions of the closed-loop maximum throughput; the ramp stops at the first
   * saturated step (the gateway batches more under open-loop load, so it may go well past 1×).
   */
  public static final double[] RAMP_FRACTIONS = {
    0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0
  };

  public static final List<Integer> CONCURRENCIES = List.of(1, 2, 4, 8, 16, 32);

  /** Figure: p99 at half of saturation with a trivial model in place of the real one. */
  public static final String FLOOR_P99 =
      "p99 at half of saturation on a trivial model, the floor without the model (ms)";

  private BenchmarkSuite() {}

  /**
   * Closed-loop load for {@code duration}, not recorded: JIT, connection pool and ORT arenas warm.
   */
  static void warm(GatewayTarget gateway, LoadOptions options, Duration duration) {
    LoadOptions once =
        options
            .withWarmup(Duration.ZERO)
            .withWindow(duration)
            .withStability(new StabilityRule(1, 1e9, 1));
    new ClosedLoopGenerator(gateway.sender(false), once).run(Math.min(8, options.maxOutstanding()));
  }

  public static void run(
      GatewayTarget gateway, LoadOptions options, Plan plan, BenchmarkResult out) {
    int rowsPerRequest = gateway.spec().rowsPerRequest();
    Duration warmup = options.warmup().multipliedBy(5);
    System.err.println("warming the gateway up for " + warmup.toMillis() + " ms (not recorded)");
    warm(gateway, options, warmup);

    System.err.println("closed loop: concurrency sweep for maximum throughput");
    RampScenario.Outcome closed =
        RampScenario.closedLoop(gateway, options, CONCURRENCIES, "closed-loop", out);

    System.err.println("baseline: in-process ONNX Runtime");
    Measurement baseline =
        BaselineComparison.measure(
            plan.modelFile(),
            gateway.model(),
            gateway.rows(),
            rowsPerRequest,
            plan.intraOpThreads(),
            plan.workers(),
            options,
            "baseline",
            out);

    double reference = Math.max(1, closed.maxThroughput());
    System.err.println(
        "ramp: open loop relative to the closed-loop maximum of "
            + String.format(Locale.ROOT, "%.0f", reference)
            + " req/s");
    List<Double> rates = new ArrayList<>();
    for (double f : RAMP_FRACTIONS) {
      rates.add((double) Math.max(1, Math.round(reference * f)));
    }
    RampScenario.Outcome ramp = RampScenario.openLoop(gateway, options, rates, "ramp", out);
    out.figure("saturation rate (req/s)", ramp.saturationLoad());
    if (!RampScenario.saturated(ramp.steps().get(ramp.steps().size() - 1))) {
      out.setup(
          "saturation",
          "not reached: the highest rate offered ("
              + rates.get(rates.size() - 1)
              + " req/s) was sustained");
    }
    double maxRows = Math.max(ramp.maxRowsPerSecond(), closed.maxRowsPerSecond());
    out.figure("max gateway throughput (rows/s)", maxRows);
    out.figure("in-process throughput (rows/s)", baseline.rowsPerSecond());

    double half = ramp.saturationLoad() / 2;
    System.err.println(
        "half of saturation: " + String.format(Locale.ROOT, "%.0f", half) + " req/s");
    Measurement atHalf =
        gateway.measure(
            "half-saturation",
            () -> new OpenLoopGenerator(gateway.sender(false), options).run(half));
    out.add(atHalf);
    RampScenario.progress(atHalf);

    Measurement floor = null;
    if (plan.hotswap() && plan.store() != null) {
      // Same rate, same requests, a model that does next to nothing: the p99 of everything but the
      // model.
      System.err.println("floor: the same load on a trivial model with the same inputs");
      floor = FloorScenario.run(gateway, plan.store(), half, options, Duration.ofSeconds(30));
      out.add(floor);
      RampScenario.progress(floor);
      out.figure(FLOOR_P99, floor.latency().p99());
    }

    double ratio = baseline.rowsPerSecond() > 0 ? maxRows / baseline.rowsPerSecond() : 0;
    out.figure(BaselineComparison.ROWS_RATIO, ratio);
    double gap = atHalf.latency().p99() - baseline.latency().p99();
    out.figure(BaselineComparison.P99_GAP, gap);
    Measurement best =
        closed.steps().stream()
            .max((a, b) -> Double.compare(a.rowsPerSecond(), b.rowsPerSecond()))
            .orElseThrow();
    double batchRows = best.server() == null ? Double.NaN : best.server().batchRows();
    if (Double.isFinite(batchRows) && batchRows > 1.5 * rowsPerRequest) {
      // The gateway merged requests into larger batches than one request: the like-for-like limit
      // is
      // in-process ORT at that batch size, printed next to the issue's same-batch ratio.
      int merged = (int) Math.round(batchRows);
      System.err.println("baseline at the gateway's mean batch of " + merged + " rows");
      Measurement atBatch =
          BaselineComparison.measure(
              plan.modelFile(),
              gateway.model() + " @" + merged + " rows",
              gateway.rows(),
              merged,
              plan.intraOpThreads(),
              plan.workers(),
              options,
              "baseline",
              out);
      out.figure(
          "gateway rows/s ÷ in-process rows/s at the gateway's mean batch (" + merged + " rows)",
          atBatch.rowsPerSecond() > 0 ? maxRows / atBatch.rowsPerSecond() : 0);
    }
    out.check(
        "gateway throughput ≥ 0.8 × in-process ORT rows/s",
        ratio >= 0.8,
        String.format(
            Locale.ROOT, "%.0f ÷ %.0f rows/s = %.3f", maxRows, baseline.rowsPerSecond(), ratio));
    out.check(
        "at half of saturation, gateway p99 ≤ in-process batch latency + 2 ms",
        gap <= 2.0,
        String.format(
            Locale.ROOT,
            "p99 %.3f ms vs in-process batch p99 %.3f ms (gap %.3f ms; client send delay p99 %.3f ms%s)",
            atHalf.latency().p99(),
            baseline.latency().p99(),
            gap,
            atHalf.sendDelayP99(),
            floor == null
                ? ""
                : String.format(
                    Locale.ROOT,
                    "; the same load on a trivial model: p99 %.3f ms",
                    floor.latency().p99())));

    if (plan.spike()) {
      System.err.println("spike: 2× saturation");
      SpikeScenario.run(
          gateway,
          half,
          2 * ramp.saturationLoad(),
          Duration.ofSeconds(3),
          plan.spikeDuration(),
          Duration.ofSeconds(6),
          gateway.spec().maxOutstanding(),
          gateway.spec().timeout().plusSeconds(1),
          out);
    }
    if (!plan.variants().isEmpty()) {
      System.err.println("variants: " + plan.variants());
      List<String> models = new ArrayList<>();
      models.add(gateway.model());
      plan.variants().stream().filter(v -> !models.contains(v)).forEach(models::add);
      int concurrency = (int) Math.max(1, closed.saturationLoad());
      VariantsScenario.run(
          gateway, models, concurrency, options, plan.store(), plan.intraOpThreads(), out);
    }
    if (plan.hotswap() && plan.store() != null) {
      System.err.println("hot swap under load");
      HotSwapScenario.run(gateway, plan.store(), null, half, plan.hotswapSeconds(), options, out);
    }
  }
}
