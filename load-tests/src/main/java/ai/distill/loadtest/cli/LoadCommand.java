package ai.distill.loadtest.cli;

import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.ResultFiles;
import ai.distill.loadtest.report.TerminalTable;
import ai.distill.loadtest.scenario.GatewayTarget;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that loads one gateway: checks the target before any load, runs {@link #run}, prints
 * the table, writes JSON/CSV when asked; exit 0 when every check passed, 1 otherwise (bad input
 * exits 2 through {@link LoadTestMain}).
 */
abstract class LoadCommand implements Callable<Integer> {
  @Mixin TargetOptions target;
  @Mixin MeasureOptions measure;
  @Mixin OutputOptions output;
  @Spec CommandSpec spec;

  abstract String title();

  /** Option checks that need no gateway (run before connecting). */
  void validate() {}

  abstract void run(GatewayTarget gateway, BenchmarkResult result);

  @Override
  public Integer call() {
    validate();
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setPreferNativeTransport(true)
                .setEventLoopPoolSize(output.eventLoops));
    try (GatewayTarget gateway = GatewayTarget.open(vertx, target.spec())) {
      BenchmarkResult result = new BenchmarkResult(title());
      describe(result);
      run(gateway, result);
      return finish(result);
    } finally {
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .orTimeout(10, TimeUnit.SECONDS)
          .exceptionally(e -> null)
          .join();
    }
  }

  void describe(BenchmarkResult result) {
    result.setup(
        "command",
        "distill-loadtest " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    result.setup(
        "client cores",
        Runtime.getRuntime().availableProcessors() + " visible to the load generator");
    result.setup("gateway", target.url);
    result.setup("model", target.model);
    result.setup("rows per request", target.rowsPerRequest);
    result.setup(
        "rows",
        target.rows != null
            ? target.rows
            : target.generatedRows + " generated from the CTR world (seed " + target.seed + ")");
    result.setup("encoding", target.binary ? "OIP binary tensor extension" : "OIP JSON");
    result.setup(
        "measurement",
        "warm-up "
            + measure.warmup.toMillis()
            + " ms, windows of "
            + measure.window.toMillis()
            + " ms until "
            + measure.stableWindows
            + " agree within ±"
            + (int) Math.round(measure.tolerance * 100)
            + "% (max "
            + measure.maxWindows
            + ")"
            + (measure.poisson ? ", Poisson arrivals" : ""));
  }

  int finish(BenchmarkResult result) {
    spec.commandLine().getOut().print(TerminalTable.render(result));
    spec.commandLine().getOut().flush();
    if (output.out != null) {
      ResultFiles.write(result, output.out);
    }
    return result.passed() ? 0 : 1;
  }
}
