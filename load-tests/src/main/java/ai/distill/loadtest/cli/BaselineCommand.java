package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.baseline.InProcessBaseline;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.oip.GeneratedRows;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.RowsFile;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.loadtest.report.ResultFiles;
import ai.distill.loadtest.report.TerminalTable;
import ai.distill.loadtest.scenario.BaselineComparison;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "baseline",
    mixinStandardHelpOptions = true,
    description =
        "Only the in-process ONNX Runtime baseline (no gateway): rows/s and batch latency of a model file.")
final class BaselineCommand implements Callable<Integer> {
  @Option(names = "--model-file", description = "ONNX model file.")
  Path modelFile;

  @Option(names = "--store", description = "Model store (with --model).")
  Path store;

  @Option(names = "--model", description = "NAME[:VERSION] in --store.")
  String model;

  @Option(names = "--rows", description = "Rows file; default: rows generated from the CTR world.")
  Path rows;

  @Option(
      names = "--rows-per-request",
      defaultValue = "1",
      description = "Rows per batch (default: ${DEFAULT-VALUE}).")
  int rowsPerRequest;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "1",
      description = "(default: ${DEFAULT-VALUE})")
  int intraOpThreads;

  @Option(
      names = "--workers",
      defaultValue = "1",
      description = "Threads running batches concurrently (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--warmup",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "(default: ${DEFAULT-VALUE})")
  Duration warmup;

  @Option(
      names = "--window",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "(default: ${DEFAULT-VALUE})")
  Duration window;

  @Option(names = "--out", description = "Write results to OUT.json and OUT.csv.")
  Path out;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (modelFile == null && (store == null || model == null)) {
      throw new LoadTestException(
          "baseline needs --model-file FILE, or --store DIR with --model NAME[:VERSION]");
    }
    Path file = BaselineComparison.modelFile(modelFile, store, model);
    BenchmarkResult result = new BenchmarkResult("Distill in-process ONNX Runtime baseline");
    result.setup(
        "command",
        "distill-loadtest " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    result.setup("cores", Runtime.getRuntime().availableProcessors() + " visible to this JVM");
    result.setup("model file", file);
    LoadOptions options =
        new LoadOptions(
            warmup,
            window,
            StabilityRule.DEFAULT,
            Math.max(1, workers),
            Duration.ofSeconds(30),
            50_000_000L,
            null);
    try (InProcessBaseline baseline = InProcessBaseline.open(file, intraOpThreads)) {
      List<InputRow> input =
          rows != null
              ? RowsFile.read(rows, 100_000)
              : GeneratedRows.generate(baseline.signature(), Math.max(4096, rowsPerRequest), 42);
      Measurement m =
          Measurement.of(
              "baseline",
              "in-process",
              model != null ? model : file.getFileName().toString(),
              baseline.run(input, rowsPerRequest, workers, options),
              null);
      result.add(m);
    }
    spec.commandLine().getOut().print(TerminalTable.render(result));
    spec.commandLine().getOut().flush();
    if (out != null) {
      ResultFiles.write(result, out);
    }
    return 0;
  }
}
