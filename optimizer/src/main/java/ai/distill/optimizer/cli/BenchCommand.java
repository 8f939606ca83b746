package ai.distill.optimizer.cli;

import ai.distill.optimizer.eval.ThroughputBenchmark;
import ai.distill.optimizer.onnx.OnnxFormatException;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.ScoringException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import ai.distill.store.ModelVersion;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsFormatException;
import ai.distill.store.rows.RowsReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: FP32 and INT8 of the same model side by side in one process (same rows, batch,
 * threads; interleaved rounds), printing rows/s and the ratio per batch size. A benchmark, not a
 * test; numbers on a shared machine are indicative.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark an INT8 model against its FP32 source side by side (rows/s and ratio).")
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      defaultValue = "${env:DISTILL_STORE:-store}",
      description = "Model store directory (default: ${DEFAULT-VALUE}; env DISTILL_STORE).")
  Path storeDir;

  @Option(
      names = "--model",
      paramLabel = "N[:V]",
      description = "The INT8 (candidate) model in the store.")
  String model;

  @Option(
      names = "--reference",
      paramLabel = "N[:V]",
      description = "The FP32 reference (default: the candidate's parent in the store).")
  String reference;

  @Option(
      names = "--model-file",
      paramLabel = "F.onnx",
      description = "Candidate model file (instead of --model).")
  Path modelFile;

  @Option(
      names = "--reference-file",
      paramLabel = "F.onnx",
      description = "Reference model file (instead of --reference).")
  Path referenceFile;

  @Option(
      names = "--compare-file",
      paramLabel = "F.onnx",
      description =
          "A third model run side by side with the two (e.g. another quantizer's output of the same"
              + " source); prints its rows/s and ours over it.")
  Path compareFile;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "ROWS.jsonl",
      description = "Rows to build batches from.")
  Path data;

  @Option(
      names = "--batches",
      paramLabel = "B,B",
      split = ",",
      defaultValue = "1,64,256",
      description = "Batch sizes (default: ${DEFAULT-VALUE}).")
  int[] batches;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "1",
      description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "1.0",
      description = "Seconds per model per round (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      defaultValue = "3",
      description = "Interleaved rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  /** Picocli needs a public no-arg constructor. */
  public BenchCommand() {}

  @Override
  public Integer call() {
    try {
      String candName;
      String refName;
      byte[] cand;
      byte[] ref;
      if (modelFile != null) {
        cand = OnnxModel.load(modelFile).toBytes();
        candName = modelFile.toString();
      } else if (model != null) {
        ModelStore store = ModelStore.open(storeDir);
        ModelVersion v = store.verify(store.resolve(model));
        cand = OnnxModel.load(v.modelFile()).toBytes();
        candName = v.id();
        if (reference == null && referenceFile == null) {
          reference = v.manifest().parent();
          if (reference == null) {
            throw new IllegalArgumentException(
                "model "
                    + v.id()
                    + " has no parent in the store; pass"
                    + " --reference N[:V] or --reference-file F.onnx");
          }
        }
      } else {
        throw new IllegalArgumentException(
            "no candidate model (expected: --model N[:V] or --model-file F.onnx)");
      }
      if (referenceFile != null) {
        ref = OnnxModel.load(referenceFile).toBytes();
        refName = referenceFile.toString();
      } else if (reference != null) {
        ModelStore store = ModelStore.open(storeDir);
        ModelVersion r = store.verify(store.resolve(reference));
        ref = OnnxModel.load(r.modelFile()).toBytes();
        refName = r.id();
      } else {
        throw new IllegalArgumentException(
            "no reference model (expected: --reference N[:V] or --reference-file F.onnx)");
      }
      for (int b : batches) {
        if (b <= 0) {
          throw new IllegalArgumentException("batches : " + b + " (expected: > 0)");
        }
      }
      List<Row> rows = RowsReader.readAll(data, 4096);
      if (rows.isEmpty()) {
        throw new IllegalArgumentException(
            "data : " + data + " has no rows (expected: at least one)");
      }
      RowTable table = RowTable.fromRows(RowTable.inputsOf(OnnxModel.fromBytes(ref)), rows);
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          Locale.ROOT,
          "reference %s vs candidate %s, %d intra-op thread(s), %d rounds x %.1fs%n",
          refName,
          candName,
          threads,
          rounds,
          seconds);
      List<byte[]> models = new ArrayList<>(List.of(ref, cand));
      if (compareFile != null) {
        models.add(OnnxModel.load(compareFile).toBytes());
        out.printf(Locale.ROOT, "compared with %s%n", compareFile);
      }
      boolean third = compareFile != null;
      out.printf(
          Locale.ROOT,
          "%8s %14s %14s %8s %9s%s%n",
          "batch",
          "ref rows/s",
          "ours rows/s",
          "ratio",
          "cpu ratio",
          third
              ? String.format(
                  Locale.ROOT,
                  " %14s %8s %9s %10s",
                  "other rows/s",
                  "ratio",
                  "cpu ratio",
                  "ours/other")
              : "");
      out.flush();
      List<Map<String, Object>> json = new ArrayList<>();
      for (int b : batches) {
        List<ThroughputBenchmark.Rate> r =
            ThroughputBenchmark.measure(
                models,
                table,
                b,
                threads,
                Duration.ofMillis((long) (seconds * 1000)),
                rounds,
                false);
        double fp = r.get(0).rowsPerSecond();
        double fpCpu = r.get(0).cpuRowsPerSecond();
        ThroughputBenchmark.Rate ours = r.get(1);
        out.printf(
            Locale.ROOT,
            "%8d %14.0f %14.0f %7.2fx %8.2fx",
            b,
            fp,
            ours.rowsPerSecond(),
            ours.rowsPerSecond() / fp,
            ours.cpuRowsPerSecond() / fpCpu);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", b);
        m.put("fp32_rows_per_second", Math.round(fp));
        m.put("int8_rows_per_second", Math.round(ours.rowsPerSecond()));
        m.put("ratio", QuantizeCommand.round(ours.rowsPerSecond() / fp));
        m.put("cpu_ratio", QuantizeCommand.round(ours.cpuRowsPerSecond() / fpCpu));
        if (third) {
          ThroughputBenchmark.Rate other = r.get(2);
          out.printf(
              Locale.ROOT,
              " %14.0f %7.2fx %8.2fx %9.2fx",
              other.rowsPerSecond(),
              other.rowsPerSecond() / fp,
              other.cpuRowsPerSecond() / fpCpu,
              ours.rowsPerSecond() / other.rowsPerSecond());
          m.put("other_rows_per_second", Math.round(other.rowsPerSecond()));
          m.put("other_ratio", QuantizeCommand.round(other.rowsPerSecond() / fp));
          m.put("other_cpu_ratio", QuantizeCommand.round(other.cpuRowsPerSecond() / fpCpu));
          m.put(
              "ours_over_other",
              QuantizeCommand.round(ours.rowsPerSecond() / other.rowsPerSecond()));
        }
        out.println();
        out.flush();
        json.add(m);
      }
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("reference", refName);
      summary.put("candidate", candName);
      if (third) {
        summary.put("compared_with", compareFile.toString());
      }
      summary.put("threads", threads);
      summary.put("results", json);
      out.println(QuantizeCommand.JSON.writeValueAsString(summary));
      out.flush();
      return 0;
    } catch (IllegalArgumentException
        | OnnxFormatException
        | ModelStoreException
        | RowsFormatException
        | ScoringException
        | UncheckedIOException
        | IOException e) {
      spec.commandLine().getErr().println("bench: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
  }

  /** Runs the benchmark standalone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }
}
