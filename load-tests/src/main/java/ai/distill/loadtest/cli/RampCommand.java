package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.loadtest.scenario.BaselineComparison;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.RampScenario;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "ramp",
    mixinStandardHelpOptions = true,
    description =
        "Sweep rates (open loop) or concurrencies (closed loop) upwards until the gateway saturates.")
final class RampCommand extends LoadCommand {
  @Option(names = "--rates", split = ",", description = "Offered rates to sweep, e.g. 100,200,400.")
  List<Double> rates;

  @Option(
      names = "--start-rate",
      defaultValue = "100",
      description = "First rate of a geometric sweep (default: ${DEFAULT-VALUE}).")
  double startRate;

  @Option(
      names = "--factor",
      defaultValue = "1.5",
      description = "Growth of a geometric sweep (default: ${DEFAULT-VALUE}).")
  double factor;

  @Option(
      names = "--steps",
      defaultValue = "12",
      description = "Most steps of a geometric sweep (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--concurrencies",
      split = ",",
      description = "Closed-loop sweep instead, e.g. 1,2,4,8,16.")
  List<Integer> concurrencies;

  @Mixin BaselineOptions baseline;

  @Override
  String title() {
    return "Distill load test: ramp to saturation";
  }

  @Override
  void validate() {
    if (rates != null && concurrencies != null) {
      throw new LoadTestException("ramp takes --rates or --concurrencies, not both");
    }
    if (!(startRate > 0) || !(factor > 1) || steps < 1) {
      throw new LoadTestException(
          "geometric sweep needs --start-rate > 0, --factor > 1, --steps >= 1");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    java.nio.file.Path modelFile =
        baseline.enabled
            ? BaselineComparison.modelFile(baseline.modelFile, baseline.store, target.model)
            : null;
    LoadOptions options = measure.options(target);
    RampScenario.Outcome ramp =
        concurrencies != null
            ? RampScenario.closedLoop(gateway, options, concurrencies, "ramp", result)
            : RampScenario.openLoop(
                gateway,
                options,
                rates != null ? rates : RampScenario.geometric(startRate, factor, steps),
                "ramp",
                result);
    result.figure(
        concurrencies != null ? "saturation concurrency" : "saturation rate (req/s)",
        ramp.saturationLoad());
    result.figure("max throughput (req/s)", ramp.maxThroughput());
    result.figure("max throughput (rows/s)", ramp.maxRowsPerSecond());
    if (baseline.enabled) {
      double half = concurrencies != null ? ramp.maxThroughput() / 2 : ramp.saturationLoad() / 2;
      Measurement atHalf =
          gateway.measure(
              "half-saturation",
              () -> new OpenLoopGenerator(gateway.sender(false), options).run(half));
      result.add(atHalf);
      Measurement b =
          BaselineComparison.measure(
              modelFile,
              target.model,
              gateway.rows(),
              target.rowsPerRequest,
              baseline.intraOpThreads,
              baseline.workers,
              options,
              "baseline",
              result);
      Measurement best =
          ramp.steps().stream()
              .max((x, y) -> Double.compare(x.rowsPerSecond(), y.rowsPerSecond()))
              .orElseThrow();
      boolean saturated = ramp.steps().stream().anyMatch(RampScenario::saturated);
      BaselineComparison.compare(
          best, BaselineComparison.measuredCapacity(best, saturated), atHalf, b, result);
    }
  }
}
