package ai.distill.optimizer.cli;

import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxFormatException;
import ai.distill.optimizer.quant.CalibrationMethod;
import ai.distill.optimizer.quant.QuantMath.QType;
import ai.distill.optimizer.quant.QuantizationException;
import ai.distill.optimizer.quant.QuantizeJob;
import ai.distill.optimizer.quant.QuantizeOptions;
import ai.distill.optimizer.quant.QuantizeReport;
import ai.distill.optimizer.table.ScoringException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import ai.distill.store.rows.RowsFormatException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quantize}: parses the options of a {@link QuantizeJob} (static or dynamic INT8
 * quantization of a stored model, calibrated on the first half of the rows and gated on the second
 * half, published as a student whose parent is the source) and prints its progress and report table
 * on stderr and a one-line JSON summary on stdout. Nothing is published on any failure.
 */
@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    description = "Quantize a stored model to INT8 (QDQ) from rows and publish it as a student.")
public final class QuantizeCommand implements Callable<Integer> {

  static final ObjectMapper JSON = new ObjectMapper();

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
      description = "Source model, e.g. ctr or ctr:3.")
  String model;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "ROWS.jsonl",
      description =
          "Rows (JSON Lines, or a capture directory); first half calibrates, second half is held out.")
  Path data;

  @Option(
      names = "--name",
      required = true,
      paramLabel = "OUT",
      description = "Name to publish the INT8 model under.")
  String name;

  @Option(
      names = "--method",
      paramLabel = "percentile|minmax|entropy",
      defaultValue = "percentile",
      description = "Calibration range method (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(
      names = "--percentile",
      paramLabel = "P",
      defaultValue = "99.999",
      description = "Two-sided percentile for --method percentile (default: ${DEFAULT-VALUE}).")
  double percentile;

  @Option(
      names = "--per-channel",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Per-output-channel weight scales (default: on; --no-per-channel for per-tensor).")
  boolean perChannel;

  @Option(names = "--symmetric", description = "Symmetric activation ranges (default: asymmetric).")
  boolean symmetric;

  @Option(names = "--int8-activations", description = "int8 activations instead of uint8.")
  boolean int8Activations;

  @Option(names = "--reduce-range", description = "7-bit weights, for AVX2 CPUs without VNNI.")
  boolean reduceRange;

  @Option(
      names = "--dynamic",
      description = "Dynamic quantization: int8 weights, activations quantized at run time.")
  boolean dynamic;

  @Option(
      names = "--max-auc-drop",
      paramLabel = "X",
      defaultValue = "0.002",
      description = "Accuracy gate: allowed |dAUC| on held-out rows (default: ${DEFAULT-VALUE}).")
  double maxAucDrop;

  @Option(
      names = "--max-mean-shift",
      paramLabel = "X",
      defaultValue = "0.01",
      description =
          "Accuracy gate: allowed relative change of the mean prediction (default: ${DEFAULT-VALUE}).")
  double maxMeanShift;

  @Option(
      names = "--max-soft-auc-gap",
      paramLabel = "X",
      defaultValue = "0.002",
      description =
          "Label-free gate (too few labels): allowed soft AUC gap vs the FP32 scores (default: ${DEFAULT-VALUE}).")
  double maxSoftAucGap;

  @Option(
      names = "--max-mean-abs-diff",
      paramLabel = "X",
      defaultValue = "0.01",
      description =
          "Label-free gate: allowed mean |INT8 - FP32| score (default: ${DEFAULT-VALUE}).")
  double maxMeanAbsDiff;

  @Option(
      names = "--min-rank-agreement",
      paramLabel = "X",
      defaultValue = "0.98",
      description =
          "Label-free gate: least Spearman agreement with FP32 (default: ${DEFAULT-VALUE}).")
  double minRankAgreement;

  @Option(
      names = "--max-fallbacks",
      paramLabel = "N",
      defaultValue = "8",
      description = "Most layers reverted to FP32 to meet the gate (default: ${DEFAULT-VALUE}).")
  int maxFallbacks;

  @Option(
      names = "--calibration-rows",
      paramLabel = "N",
      defaultValue = "2000",
      description = "At most N calibration rows (default: ${DEFAULT-VALUE}).")
  int calibrationRows;

  @Option(
      names = "--held-out-rows",
      paramLabel = "N",
      defaultValue = "10000",
      description = "At most N held-out rows (default: ${DEFAULT-VALUE}).")
  int heldOutRows;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "1",
      description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--speed-check",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Benchmark FP32 vs INT8 at batch 256 and refuse a slower result (default: on).")
  boolean speedCheck;

  @Option(
      names = "--integer-domain",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Keep tensors 8-bit between integer kernels where ORT fuses the op (QLinearConcat,"
              + " QLinearSigmoid, QLinearAdd/Mul, QLinearSoftmax, activation MatMuls) and the model"
              + " measures faster (default: on).")
  boolean integerDomain;

  @Option(
      names = "--embedding-bits",
      paramLabel = "8|4",
      defaultValue = "8",
      description =
          "Bits per embedding table value: 8, or 4 (row-wise scale and zero point; default: ${DEFAULT-VALUE}).")
  int embeddingBits;

  @Option(
      names = "--weight-bits",
      paramLabel = "8|4",
      defaultValue = "8",
      description =
          "Bits per MatMul/Gemm weight value: 8, or 4 (per output channel, widened to int8 when the"
              + " model loads; default: ${DEFAULT-VALUE}).")
  int weightBits;

  @Option(
      names = "--force",
      description = "Publish even if the INT8 model benchmarks slower than its source.")
  boolean force;

  @Option(
      names = "--progress-json",
      hidden = true,
      description =
          "Progress as one JSON line per event on stderr: {\"stage\", \"fraction\", \"message\"} (for the gateway's jobs).")
  boolean progressJson;

  /** Picocli needs a public no-arg constructor. */
  public QuantizeCommand() {}

  @Override
  public Integer call() {
    try {
      return run();
    } catch (IllegalArgumentException
        | QuantizationException
        | OnnxFormatException
        | ModelStoreException
        | RowsFormatException
        | ScoringException
        | UncheckedIOException
        | IOException e) {
      err().println("quantize: " + e.getMessage());
      err().flush();
      return 1;
    }
  }

  private int run() throws IOException {
    QuantizeOptions options =
        QuantizeOptions.builder()
            .method(CalibrationMethod.parse(method))
            .percentile(percentile)
            .perChannel(perChannel)
            .symmetricActivations(symmetric)
            .activationType(int8Activations ? QType.INT8 : QType.UINT8)
            .reduceRange(reduceRange)
            .dynamic(dynamic)
            .maxAucDrop(maxAucDrop)
            .maxMeanShift(maxMeanShift)
            .maxSoftAucGap(maxSoftAucGap)
            .maxMeanAbsDiff(maxMeanAbsDiff)
            .minRankAgreement(minRankAgreement)
            .maxFallbacks(maxFallbacks)
            .calibrationRows(calibrationRows)
            .heldOutRows(heldOutRows)
            .threads(threads)
            .speedCheck(speedCheck)
            .force(force)
            .integerDomain(integerDomain)
            .embeddingBits(embeddingBits)
            .weightBits(weightBits)
            .build();
    QuantizeJob.Outcome outcome =
        QuantizeJob.run(
            ModelStore.open(storeDir),
            new QuantizeJob.Request(model, data, name, options),
            progressTo(err(), progressJson));
    QuantizeReport report = outcome.report();
    err().print(report.toTable());
    if (report.kernels().integerKernels() == 0) {
      err()
          .println(
              "WARNING: ONNX Runtime formed NO integer kernels for this model; it will not be faster than FP32");
    }
    err().flush();
    out().println(JSON.writeValueAsString(outcome.summary()));
    out().flush();
    return 0;
  }

  /**
   * Progress on {@code err}: the message lines, or with {@code json} one line {@code {"stage":
   * "...", "fraction": 0.42, "message": "..."}} per event, flushed each time.
   */
  static ProgressListener progressTo(PrintWriter err, boolean json) {
    return (stage, fraction, message) -> {
      if (json) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("stage", stage);
        event.put("fraction", fraction);
        event.put("message", message);
        try {
          err.println(JSON.writeValueAsString(event));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      } else {
        err.println(message);
      }
      err.flush();
    };
  }

  static double round(double v) {
    return QuantizeJob.round(v);
  }

  private PrintWriter out() {
    return spec.commandLine().getOut();
  }

  private PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Runs the command standalone (the gateway's Main registers it as a subcommand). */
  public static void main(String[] args) {
    System.exit(new CommandLine(new QuantizeCommand()).execute(args));
  }
}
