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
      out.printf(
          Locale.ROOT, "%8s %16s %16s %8s%n", "batch", "fp32 rows/s", "int8 rows/s", "ratio");
      out.flush();
      List<Map<String, Object>> json = new ArrayList<>();
      for (int b : batches) {
        ThroughputBenchmark.Result r =
            ThroughputBenchmark.compare(
                    ref,
                    cand,
                    table,
                    new int[] {b},
                    threads,
                    Duration.ofMillis((long) (seconds * 1000)),
                    rounds)
                .get(0);
        out.printf(
            Locale.ROOT,
            "%8d %16.0f %16.0f %7.2fx%n",
            b,
            r.referenceRowsPerSecond(),
            r.candidateRowsPerSecond(),
            r.ratio());
        out.flush();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", b);
        m.put("fp32_rows_per_second", Math.round(r.referenceRowsPerSecond()));
        m.put("int8_rows_per_second", Math.round(r.candidateRowsPerSecond()));
        m.put("ratio", QuantizeCommand.round(r.ratio()));
        json.add(m);
      }
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("reference", refName);
      summary.put("candidate", candName);
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
