package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.loadtest.scenario.BaselineComparison;
import ai.distill.loadtest.scenario.GatewayTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "steady",
    mixinStandardHelpOptions = true,
    description =
        "One load level: open loop at --rate (latency, coordinated-omission corrected) or closed loop at --concurrency.")
final class SteadyCommand extends LoadCommand {
  @Option(names = "--rate", description = "Requests per second, open loop.")
  Double rate;

  @Option(names = "--concurrency", description = "Requests in flight, closed loop.")
  Integer concurrency;

  @Mixin BaselineOptions baseline;

  @Override
  String title() {
    return "Distill load test: steady";
  }

  @Override
  void validate() {
    if ((rate == null) == (concurrency == null)) {
      throw new LoadTestException(
          "steady needs exactly one of --rate R (open loop) or --concurrency C (closed loop)");
    }
    if (rate != null && !(rate > 0)) {
      throw new LoadTestException("--rate " + rate + " (expected: > 0 requests per second)");
    }
    if (concurrency != null && (concurrency < 1 || concurrency > target.maxOutstanding)) {
      throw new LoadTestException(
          "--concurrency " + concurrency + " (expected: 1.." + target.maxOutstanding + ")");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    java.nio.file.Path modelFile =
        baseline.enabled
            ? BaselineComparison.modelFile(baseline.modelFile, baseline.store, target.model)
            : null;
    LoadOptions options = measure.options(target);
    Measurement m =
        rate != null
            ? gateway.measure(
                "steady", () -> new OpenLoopGenerator(gateway.sender(false), options).run(rate))
            : gateway.measure(
                "steady",
                () -> new ClosedLoopGenerator(gateway.sender(false), options).run(concurrency));
    result.add(m);
    if (baseline.enabled) {
      result.setup(
          "baseline",
          modelFile
              + ", "
              + baseline.intraOpThreads
              + " intra-op thread(s), "
              + baseline.workers
              + " worker(s)");
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
      BaselineComparison.compare(m, BaselineComparison.measuredCapacity(m, false), m, b, result);
    }
  }
}
