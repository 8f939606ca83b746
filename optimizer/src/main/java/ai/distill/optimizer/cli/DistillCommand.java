package ai.distill.optimizer.cli;

import ai.distill.optimizer.distill.DistillGate;
import ai.distill.optimizer.distill.DistillJob;
import ai.distill.optimizer.distill.DistillOptions;
import ai.distill.optimizer.table.ScoringException;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import ai.distill.store.rows.RowsFormatException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code distill}: trains a student from a teacher in the store on input rows (labels optional) and
 * publishes it (role student, parent = the teacher), optionally followed by INT8 quantization.
 * Progress goes to stderr, a one-line JSON summary to stdout; bad input exits 1 with a one-line
 * reason.
 *
 * <pre>{@code
 * int exit = new CommandLine(new DistillCommand()).execute("--store", "store", "--teacher", "ctr",
 *         "--data", "captured.jsonl", "--name", "ctr-student");
 * }</pre>
 */
@Command(
    name = "distill",
    mixinStandardHelpOptions = true,
    description =
        "Distil a small student from a teacher on input rows (labels optional) and publish it.")
public final class DistillCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      defaultValue = "${env:DISTILL_STORE:-store}",
      description = "Model store directory (default: ${DEFAULT-VALUE}; env DISTILL_STORE).")
  Path store;

  @Option(
      names = "--teacher",
      required = true,
      paramLabel = "N[:V]",
      description = "The teacher model in the store.")
  String teacher;

  @Option(
      names = "--data",
      paramLabel = "ROWS.jsonl",
      description = "Training rows (file or directory of capture segments); labels optional.")
  Path data;

  @Option(
      names = "--generate-fixture-inputs",
      paramLabel = "N",
      description =
          "Instead of --data: generate N unlabelled input rows from the ctr-mlp-torch fixture's input distribution.")
  Integer generate;

  @Option(
      names = "--eval",
      paramLabel = "ROWS.jsonl",
      description =
          "Labelled rows to evaluate student and teacher on (default: the held-out training rows).")
  Path eval;

  @Option(
      names = "--max-rows",
      paramLabel = "N",
      defaultValue = "0",
      description = "Read at most N training rows (0: all).")
  int maxRows;

  @Option(
      names = "--name",
      required = true,
      paramLabel = "OUT",
      description = "Name of the published student.")
  String name;

  @Option(
      names = "--hidden",
      paramLabel = "H1,H2",
      defaultValue = "128,64",
      split = ",",
      description = "Hidden layer widths (default: ${DEFAULT-VALUE}).")
  int[] hidden;

  @Option(
      names = "--embedding-dim",
      paramLabel = "D",
      defaultValue = "8",
      description = "Embedding width (default: ${DEFAULT-VALUE}).")
  int embeddingDim;

  @Option(
      names = "--temperature",
      paramLabel = "T",
      defaultValue = "1.0",
      description = "Distillation temperature (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--alpha",
      paramLabel = "A",
      defaultValue = "0.5",
      description =
          "Weight of the teacher term on labelled rows; unlabelled rows use 1 (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(
      names = "--epochs",
      paramLabel = "E",
      defaultValue = "4",
      description = "Maximum epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--batch",
      paramLabel = "B",
      defaultValue = "256",
      description = "Mini-batch rows (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--learning-rate",
      paramLabel = "LR",
      defaultValue = "0.002",
      description = "Adam step size (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(
      names = "--patience",
      paramLabel = "P",
      defaultValue = "1",
      description =
          "Epochs without held-out improvement before stopping (default: ${DEFAULT-VALUE}).")
  int patience;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "42",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Trainer threads (default: available cores, at most 4).")
  Integer threads;

  @Option(
      names = "--qat",
      description = "Train with int8 fake quantization (straight-through estimator).")
  boolean qat;

  @Option(
      names = "--int8",
      description = "Also quantize the student to INT8 and publish it as OUT-int8.")
  boolean int8;

  @Option(
      names = "--progress-json",
      hidden = true,
      description =
          "Progress as one JSON line per event on stderr: {\"stage\", \"fraction\", \"message\"} (for the gateway's jobs).")
  boolean progressJson;

  @Option(
      names = "--max-soft-auc-gap",
      paramLabel = "X",
      description =
          "Label-free student gate (too few labels): allowed soft AUC gap vs the teacher (default: 0.02).")
  Double maxSoftAucGap;

  @Option(
      names = "--max-mean-abs-diff",
      paramLabel = "X",
      description = "Label-free student gate: allowed mean |student - teacher| (default: 0.05).")
  Double maxMeanAbsDiff;

  @Option(
      names = "--min-rank-agreement",
      paramLabel = "X",
      description =
          "Label-free student gate: least Spearman agreement with the teacher (default: 0.8).")
  Double minRankAgreement;

  @Option(
      names = "--max-mean-shift",
      paramLabel = "X",
      description =
          "Student gate: allowed relative change of the mean prediction vs the teacher (default: 0.2).")
  Double maxMeanShift;

  public DistillCommand() {}

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    try {
      if ((data == null) == (generate == null)) {
        throw new IllegalArgumentException(
            "give exactly one of --data ROWS.jsonl or --generate-fixture-inputs N");
      }
      StudentConfig config =
          StudentConfig.defaults()
              .withHidden(hidden)
              .withEmbeddingDim(embeddingDim)
              .withEpochs(epochs)
              .withBatchSize(batch)
              .withLearningRate(learningRate)
              .withPatience(patience)
              .withSeed(seed)
              .withFakeQuant(qat);
      if (threads != null) {
        config = config.withThreads(threads);
      }
      DistillOptions options =
          DistillOptions.defaults()
              .withStudent(config)
              .withTemperature(temperature)
              .withAlpha(alpha)
              .withGate(
                  DistillGate.Bounds.DEFAULTS.with(
                      maxSoftAucGap, maxMeanAbsDiff, minRankAgreement, maxMeanShift));
      ModelStore modelStore = ModelStore.open(store);
      // Verified here and pinned by version, so the job reads exactly the bytes that were checked.
      String verifiedTeacher = modelStore.verify(modelStore.resolve(teacher)).id();
      DistillJob.Request request =
          new DistillJob.Request(
              verifiedTeacher,
              data,
              generate == null ? 0 : generate,
              eval,
              maxRows,
              name,
              options,
              int8);
      DistillJob.Outcome outcome =
          DistillJob.run(modelStore, request, QuantizeCommand.progressTo(err, progressJson));
      PrintWriter out = spec.commandLine().getOut();
      out.println(JSON.writeValueAsString(outcome.summary()));
      out.flush();
      return 0;
    } catch (IllegalArgumentException
        | ScoringException
        | ModelStoreException
        | RowsFormatException
        | UncheckedIOException e) {
      err.println("distill: " + e.getMessage());
      err.flush();
      return 1;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs the command standalone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new DistillCommand()).execute(args));
  }

  @Override
  public String toString() {
    return "distill " + teacher + " -> " + name + " " + Arrays.toString(hidden);
  }
}
