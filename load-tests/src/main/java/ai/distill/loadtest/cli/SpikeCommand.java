package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.RampScenario;
import ai.distill.loadtest.scenario.SpikeScenario;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "spike",
    mixinStandardHelpOptions = true,
    description =
        "Half of saturation, then 2× saturation for a few seconds, then half again: 429s vs 5xx, p99 of admitted requests, recovery time.")
final class SpikeCommand extends LoadCommand {
  @Option(
      names = "--saturation-rate",
      description = "The gateway's saturation rate (req/s). Default: found with a ramp first.")
  Double saturationRate;

  @Option(
      names = "--start-rate",
      defaultValue = "100",
      description = "First rate of the ramp that finds saturation (default: ${DEFAULT-VALUE}).")
  double startRate;

  @Option(
      names = "--spike-factor",
      defaultValue = "2",
      description = "Spike rate as a multiple of saturation (default: ${DEFAULT-VALUE}).")
  double spikeFactor;

  @Option(
      names = "--spike-duration",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "(default: ${DEFAULT-VALUE})")
  Duration spike;

  @Option(
      names = "--before",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Base load before the spike (default: ${DEFAULT-VALUE}).")
  Duration before;

  @Option(
      names = "--after",
      defaultValue = "6s",
      converter = DurationConverter.class,
      description = "Base load after the spike (default: ${DEFAULT-VALUE}).")
  Duration after;

  @Override
  String title() {
    return "Distill load test: spike";
  }

  @Override
  void validate() {
    if (saturationRate != null && !(saturationRate > 0)) {
      throw new LoadTestException("--saturation-rate " + saturationRate + " (expected: > 0)");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    double saturation =
        saturationRate != null
            ? saturationRate
            : RampScenario.openLoop(
                    gateway,
                    measure.options(target),
                    RampScenario.geometric(startRate, 1.5, 14),
                    "ramp",
                    result)
                .saturationLoad();
    result.figure("saturation rate (req/s)", saturation);
    SpikeScenario.run(
        gateway,
        saturation / 2,
        saturation * spikeFactor,
        before,
        spike,
        after,
        target.maxOutstanding,
        target.timeout.plusSeconds(1),
        result);
  }
}
