package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.VariantsScenario;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "variants",
    mixinStandardHelpOptions = true,
    description =
        "Throughput of several variants (FP32, INT8, distilled student...) through the gateway at the same concurrency; --model is the reference.")
final class VariantsCommand extends LoadCommand {
  @Option(
      names = "--variants",
      split = ",",
      required = true,
      description = "The other models to compare with --model, e.g. ctr-int8,ctr-student.")
  List<String> variants;

  @Option(
      names = "--concurrency",
      defaultValue = "8",
      description = "Closed-loop concurrency for every variant (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--store",
      description = "The gateway's store: also measure each variant in-process.")
  Path store;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "1",
      description = "Intra-op threads of the in-process baselines (default: ${DEFAULT-VALUE}).")
  int intraOpThreads;

  @Override
  String title() {
    return "Distill load test: variants";
  }

  @Override
  void validate() {
    if (concurrency < 1 || concurrency > target.maxOutstanding) {
      throw new LoadTestException(
          "--concurrency " + concurrency + " (expected: 1.." + target.maxOutstanding + ")");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    List<String> models = new java.util.ArrayList<>();
    models.add(target.model);
    variants.stream().filter(v -> !models.contains(v)).forEach(models::add);
    VariantsScenario.run(
        gateway, models, concurrency, measure.options(target), store, intraOpThreads, result);
  }
}
