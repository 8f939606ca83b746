package ai.distill.optimizer.quant;

import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.Row;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One quantization job against a model store: verify the source model, read and split the rows,
 * {@link Quantizer quantize} (calibrate, gate, check kernels and speed) and publish the result as a
 * student whose parent is the source, with the evaluation, the gate that ran ({@code metrics.gate}:
 * labelled or label-free, its numbers), the quantization report and the {@link ReferenceSketch} of
 * the calibration rows ({@code metrics.reference_sketch}, for drift) in its manifest. Nothing is
 * published on any failure or cancellation. Stateless; used by the {@code quantize} command and,
 * later, the gateway's jobs.
 *
 * <pre>{@code
 * QuantizeJob.Outcome o = QuantizeJob.run(ModelStore.open(dir),
 *         new QuantizeJob.Request("ctr", Path.of("rows.jsonl"), "ctr-int8", QuantizeOptions.defaults()),
 *         ProgressListener.lines(System.err::println));
 * }</pre>
 */
public final class QuantizeJob {

  /**
   * What to quantize.
   *
   * @param model source model spec, {@code name[:version]}
   * @param data rows (JSON Lines file or capture directory): the first half calibrates, the second
   *     is held out
   * @param name the name to publish the INT8 model under
   * @param options quantization settings (its progress listener is replaced by the one given to
   *     {@link #run})
   */
  public record Request(String model, Path data, String name, QuantizeOptions options) {}

  /**
   * What a job published.
   *
   * @param source the verified source version
   * @param published the published INT8 version
   * @param report how it was made
   * @param summary the one-line JSON summary as a map
   */
  public record Outcome(
      ModelVersion source,
      ModelVersion published,
      QuantizeReport report,
      Map<String, Object> summary) {}

  private QuantizeJob() {}

  /**
   * Runs the job, reporting stages {@code read}, {@code calibrate}, {@code evaluate}, {@code
   * sensitivity}, {@code gate} and {@code speed} to {@code progress} and stopping when it asks.
   *
   * @throws QuantizationException when the model cannot be quantized within the gate
   * @throws ai.distill.optimizer.job.JobCancelledException when {@code progress} asked to stop
   */
  public static Outcome run(ModelStore store, Request request, ProgressListener progress) {
    ModelStore.checkName(request.name());
    ModelVersion source = store.verify(store.resolve(request.model()));
    OnnxModel fp32;
    try {
      fp32 = OnnxModel.load(source.modelFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
    QuantizeOptions options =
        request.options().toBuilder().progress(progress.within(0.05, 0.98)).build();
    List<Row> rows = Quantizer.readRows(request.data(), Quantizer.rowsToRead(options));
    Quantizer.Split split = Quantizer.split(rows, options);
    progress.progress(
        "read",
        0.05,
        "quantize: "
            + source.id()
            + " with "
            + split.calibration().size()
            + " calibration rows and "
            + split.heldOut().size()
            + " held-out rows from "
            + request.data());
    progress.checkCancelled("read");
    QuantizeResult result = Quantizer.quantize(fp32, split.calibration(), split.heldOut(), options);
    QuantizeReport report = result.report();
    progress.checkCancelled("publish");
    Map<String, Object> metrics = new LinkedHashMap<>(report.comparison().candidate().toMap());
    metrics.put("gate", report.gateMap());
    metrics.put("quantization", report.toMap());
    if (result.sketch() != null) {
      metrics.put(ReferenceSketch.METRICS_KEY, result.sketch().toMap());
    }
    ModelVersion published =
        store.publish(
            PublishRequest.fromBytes(
                request.name(), result.model(), Role.STUDENT, source.id(), metrics));
    return new Outcome(source, published, report, summary(source, published, report));
  }

  private static Map<String, Object> summary(
      ModelVersion source, ModelVersion published, QuantizeReport report) {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("published", published.id());
    summary.put("parent", source.id());
    summary.put("mode", report.mode());
    summary.put("method", report.method());
    summary.put("calibration_rows", report.calibrationRows());
    summary.put("held_out_rows", report.heldOutRows());
    summary.put("auc_before", report.comparison().reference().toMap().get("auc"));
    summary.put("auc_after", report.comparison().candidate().toMap().get("auc"));
    summary.put("auc_delta", finite(report.comparison().aucDelta()));
    summary.put(
        "mean_prediction_change", finite(report.comparison().meanPredictionRelativeChange()));
    summary.put("fell_back", report.fellBack());
    summary.put("gate", report.gateMap());
    summary.put("integer_kernels", report.kernels().integerKernels());
    summary.put("size_ratio", round(report.sizeRatio()));
    summary.put("speed_ratio", report.speed() == null ? null : round(report.speed().ratio()));
    summary.put(
        "speed_cpu_ratio",
        report.speed() == null ? null : finite(round(report.speed().cpuRatio())));
    summary.put("embedding_bits", report.embeddingBits());
    summary.put("weight_bits", report.weightBits());
    summary.put(
        "integer_domain",
        report.integerDomain().stream().map(PropagationSearch.Decision::toMap).toList());
    return summary;
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /** {@code v} rounded to 4 decimals, as the summaries print ratios. */
  public static double round(double v) {
    if (!Double.isFinite(v)) {
      return v;
    }
    return Double.parseDouble(String.format(Locale.ROOT, "%.4f", v));
  }
}
