package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.HotSwapScenario;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "hotswap",
    mixinStandardHelpOptions = true,
    description =
        "Steady load while a new version of the model is published into the gateway's store; fails unless every request succeeded.")
final class HotSwapCommand extends LoadCommand {
  @Option(names = "--store", required = true, description = "The gateway's model store directory.")
  Path store;

  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Requests per second (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--seconds",
      defaultValue = "10",
      description = "Measured seconds; the publish happens halfway (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--publish-file",
      description =
          "ONNX file to publish as the new version (default: the current version's file).")
  Path publishFile;

  @Override
  String title() {
    return "Distill load test: hot swap under load";
  }

  @Override
  void validate() {
    if (!Files.isDirectory(store)) {
      throw new LoadTestException(
          "--store " + store + " is not a directory (pass the gateway's store)");
    }
    if (publishFile != null && !Files.isRegularFile(publishFile)) {
      throw new LoadTestException("--publish-file " + publishFile + " does not exist");
    }
    if (seconds < 2 || !(rate > 0)) {
      throw new LoadTestException("hotswap needs --seconds >= 2 and --rate > 0");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    HotSwapScenario.run(
        gateway, store, publishFile, rate, seconds, measure.options(target), result);
  }
}
