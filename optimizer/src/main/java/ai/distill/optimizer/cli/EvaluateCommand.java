package ai.distill.optimizer.cli;

import ai.distill.optimizer.eval.EvalReport;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.onnx.OnnxFormatException;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.ScoringException;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import ai.distill.store.ModelVersion;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsFormatException;
import ai.distill.store.rows.RowsReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code evaluate}: scores labelled rows with a stored model and prints JSON {rows, auc, logloss,
 * mean_prediction}.
 */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = "Evaluate a stored model on labelled rows (AUC, logloss, mean prediction).")
public final class EvaluateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      defaultValue = "${env:DISTILL_STORE:-store}",
      description = "Model store directory (default: ${DEFAULT-VALUE}; env DISTILL_STORE).")
  Path storeDir;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "N[:V]",
      description = "Model, e.g. ctr or ctr:3.")
  String model;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "ROWS.jsonl",
      description = "Labelled rows (JSON Lines).")
  Path data;

  @Option(
      names = "--output",
      paramLabel = "NAME",
      description = "Output to score (default: the model's first output).")
  String output;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "0",
      description = "Use at most N rows (default: all).")
  int limit;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "1",
      description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  /** Picocli needs a public no-arg constructor. */
  public EvaluateCommand() {}

  @Override
  public Integer call() {
    try {
      ModelStore store = ModelStore.open(storeDir);
      ModelVersion v = store.verify(store.resolve(model));
      if (!Files.exists(data)) {
        throw new IllegalArgumentException("data : " + data + " (expected: an existing rows file)");
      }
      List<Row> rows = RowsReader.readAll(data, limit);
      if (rows.isEmpty()) {
        throw new IllegalArgumentException(
            "data : " + data + " has no rows (expected: at least one)");
      }
      OnnxModel m = OnnxModel.load(v.modelFile());
      EvalReport r =
          Evaluator.evaluate(
              m.toBytes(),
              RowTable.fromRows(RowTable.inputsOf(m), rows),
              output,
              TableScorer.Options.defaults().withThreads(threads));
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("model", v.id());
      json.putAll(r.toMap());
      out().println(QuantizeCommand.JSON.writeValueAsString(json));
      out().flush();
      return 0;
    } catch (IllegalArgumentException
        | OnnxFormatException
        | ModelStoreException
        | RowsFormatException
        | ScoringException
        | UncheckedIOException
        | IOException e) {
      err().println("evaluate: " + e.getMessage());
      err().flush();
      return 1;
    }
  }

  private PrintWriter out() {
    return spec.commandLine().getOut();
  }

  private PrintWriter err() {
    return spec.commandLine().getErr();
  }
}
