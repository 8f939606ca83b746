package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.ThroughputBenchmark;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything a quantization run decided and measured: settings, rows used, per-layer sensitivity,
 * metrics before/after on held-out rows, the gate, the kernels ORT formed, sizes and (optionally)
 * speed. {@code gate} is the verdict of the gate that ran (labelled or label-free, see {@link
 * AccuracyGate}) on the published model. {@link #toMap()} goes into the store manifest; {@link
 * #toTable()} is for people.
 */
public record QuantizeReport(
    String mode,
    String method,
    double percentile,
    String activationType,
    boolean symmetricActivations,
    boolean perChannel,
    boolean reduceRange,
    int embeddingBits,
    int weightBits,
    int calibrationRows,
    int heldOutRows,
    int sensitivityRows,
    List<LayerReport> layers,
    Map<String, Range> activationRanges,
    ModelComparison comparison,
    double maxAucDrop,
    double maxMeanShift,
    boolean gatePassed,
    List<String> fellBack,
    GateVerdict gate,
    KernelCounter.Kernels kernels,
    long sizeBefore,
    long sizeAfter,
    ThroughputBenchmark.Result speed,
    List<PropagationSearch.Decision> integerDomain,
    List<String> warnings) {

  public double sizeRatio() {
    return (double) sizeAfter / sizeBefore;
  }

  /** The reverted layers, each with where it went: FP32, or 8 bits from the 4 asked for. */
  private String fallbacks() {
    List<String> out = new ArrayList<>();
    for (String l : fellBack) {
      boolean eight = layers.stream().anyMatch(r -> r.layer().equals(l) && r.quantized());
      out.add(l + (eight ? " to 8 bits" : " to fp32"));
    }
    return out.toString();
  }

  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", mode);
    m.put("method", method);
    if ("percentile".equals(method)) {
      m.put("percentile", percentile);
    }
    m.put("activation_type", activationType.toLowerCase(Locale.ROOT));
    m.put("activations", symmetricActivations ? "symmetric" : "asymmetric");
    m.put(
        "weights",
        "int8 symmetric "
            + (perChannel ? "per-channel" : "per-tensor")
            + (reduceRange ? " 7-bit" : ""));
    m.put("embedding_bits", embeddingBits);
    m.put("weight_bits", weightBits);
    m.put("calibration_rows", calibrationRows);
    m.put("held_out_rows", heldOutRows);
    m.put("sensitivity_rows", sensitivityRows);
    m.put("before", comparison.reference().toMap());
    m.put("after", comparison.candidate().toMap());
    m.put("auc_delta", LayerReport.finite(comparison.aucDelta()));
    m.put(
        "mean_prediction_relative_change",
        LayerReport.finite(comparison.meanPredictionRelativeChange()));
    m.put("max_abs_diff", comparison.maxAbsDiff());
    m.put("mean_abs_diff", comparison.meanAbsDiff());
    m.put("gate", gateMap());
    m.put("layers", layers.stream().map(LayerReport::toMap).toList());
    Map<String, Object> ranges = new LinkedHashMap<>();
    activationRanges.forEach((k, v) -> ranges.put(k, List.of(v.min(), v.max())));
    m.put("activation_ranges", ranges);
    m.put("kernels", kernels.ops());
    m.put("integer_kernels", kernels.integerKernels());
    m.put("float_matmuls", kernels.floatMatmuls());
    m.put("size_before_bytes", sizeBefore);
    m.put("size_after_bytes", sizeAfter);
    m.put("size_ratio", sizeRatio());
    if (speed != null) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("batch", speed.batch());
      s.put("fp32_rows_per_second", speed.referenceRowsPerSecond());
      s.put("int8_rows_per_second", speed.candidateRowsPerSecond());
      s.put("ratio", speed.ratio());
      s.put("fp32_cpu_rows_per_second", LayerReport.finite(speed.referenceCpuRowsPerSecond()));
      s.put("int8_cpu_rows_per_second", LayerReport.finite(speed.candidateCpuRowsPerSecond()));
      s.put("cpu_ratio", LayerReport.finite(speed.cpuRatio()));
      m.put("speed", s);
    }
    m.put("integer_domain", integerDomain.stream().map(PropagationSearch.Decision::toMap).toList());
    m.put("warnings", warnings);
    return m;
  }

  /**
   * The gate as recorded: {@link GateVerdict#toMap()} plus {@code max_auc_drop}, {@code
   * max_mean_shift}, {@code fell_back}.
   */
  public Map<String, Object> gateMap() {
    Map<String, Object> g = new LinkedHashMap<>(gate.toMap());
    g.putIfAbsent("max_auc_drop", maxAucDrop);
    g.putIfAbsent("max_mean_shift", maxMeanShift);
    g.put("passed", gatePassed);
    g.put("fell_back", fellBack);
    return g;
  }

  public String toTable() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "quantization: %s, method %s%s, activations %s %s, weights int8 symmetric %s%s%n",
            mode,
            method,
            "percentile".equals(method) ? "(" + percentile + ")" : "",
            activationType.toLowerCase(Locale.ROOT),
            symmetricActivations ? "symmetric" : "asymmetric",
            perChannel ? "per-channel" : "per-tensor",
            reduceRange ? " 7-bit" : ""));
    b.append(
        String.format(
            Locale.ROOT,
            "rows: calibration %d, held-out %d, sensitivity %d%n",
            calibrationRows,
            heldOutRows,
            sensitivityRows));
    int w = Math.max(5, layers.stream().mapToInt(l -> l.layer().length()).max().orElse(5));
    b.append(
        String.format(
            Locale.ROOT,
            "%-" + w + "s  %-7s %9s %12s %12s  %s%n",
            "layer",
            "op",
            "sqnr_db",
            "dauc_alone",
            "dmean_alone",
            "status"));
    for (LayerReport l : layers) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-" + w + "s  %-7s %9.2f %12.5f %12.5f  %s%n",
              l.layer(),
              l.op(),
              l.sqnrDb(),
              l.aucDeltaAlone(),
              l.meanShiftAlone(),
              l.quantized()
                  ? l.note().isEmpty() ? "int8" : "int8 (" + l.note() + ")"
                  : "fp32 (" + l.note() + ")"));
    }
    b.append(
        String.format(Locale.ROOT, "%-16s %10s %10s %10s%n", "metric", "fp32", "int8", "delta"));
    var r = comparison.reference();
    var c = comparison.candidate();
    row(b, "auc", r.auc(), c.auc());
    row(b, "logloss", r.logloss(), c.logloss());
    row(b, "mean_prediction", r.meanPrediction(), c.meanPrediction());
    b.append(
        String.format(
            Locale.ROOT,
            "max|diff| %.6f, mean|diff| %.6f, spearman %.6f%n",
            comparison.maxAbsDiff(),
            comparison.meanAbsDiff(),
            comparison.spearman()));
    if (GateVerdict.LABEL_FREE.equals(gate.mode())) {
      Map<String, Object> n = gate.numbers();
      b.append(
          String.format(
              Locale.ROOT,
              "label-free gate (int8 vs fp32 scores, too few labels): soft AUC gap %s"
                  + " <= %s, mean|diff| %s <= %s, spearman %s >= %s, mean ratio %s in [%s, %s]: %s%s%n",
              n.get("soft_auc_gap"),
              n.get("max_soft_auc_gap"),
              n.get("mean_abs_diff"),
              n.get("max_mean_abs_diff"),
              n.get("spearman"),
              n.get("min_rank_agreement"),
              n.get("mean_prediction_ratio"),
              n.get("min_mean_prediction_ratio"),
              n.get("max_mean_prediction_ratio"),
              gatePassed ? "PASSED" : "FAILED",
              fellBack.isEmpty() ? "" : ", fell back: " + fallbacks()));
    } else {
      b.append(
          String.format(
              Locale.ROOT,
              "gate (|dAUC| <= %s, |dmean| <= %s): %s%s%n",
              maxAucDrop,
              maxMeanShift,
              gatePassed ? "PASSED" : "FAILED",
              fellBack.isEmpty() ? "" : ", fell back: " + fallbacks()));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "kernels after ORT optimization: integer %d, float matmuls left %d, %s%n",
            kernels.integerKernels(),
            kernels.floatMatmuls(),
            kernels.ops()));
    b.append(
        String.format(
            Locale.ROOT, "size: %d -> %d bytes (%.2fx)%n", sizeBefore, sizeAfter, sizeRatio()));
    if (speed != null) {
      b.append(
          String.format(
              Locale.ROOT,
              "speed @ batch %d: fp32 %.0f rows/s, int8 %.0f rows/s, ratio %.2fx (CPU time %.2fx)%n",
              speed.batch(),
              speed.referenceRowsPerSecond(),
              speed.candidateRowsPerSecond(),
              speed.ratio(),
              speed.cpuRatio()));
    }
    for (PropagationSearch.Decision d : integerDomain) {
      b.append(
          String.format(
              Locale.ROOT,
              "integer domain %-8s %-28s fused %-24s speedup %-6s %s: %s%n",
              d.op(),
              d.layer(),
              d.kernels().isEmpty() ? "-" : String.join(",", d.kernels()),
              Double.isNaN(d.speedup()) ? "-" : String.format(Locale.ROOT, "%.3fx", d.speedup()),
              d.taken() ? "taken" : "not taken",
              d.reason()));
    }
    for (String warning : warnings) {
      b.append("WARNING: ").append(warning).append(System.lineSeparator());
    }
    return b.toString();
  }

  private static void row(StringBuilder b, String name, double before, double after) {
    b.append(
        String.format(
            Locale.ROOT, "%-16s %10.5f %10.5f %+10.5f%n", name, before, after, after - before));
  }

  /** A copy of the warnings list with one more entry. */
  static List<String> plus(List<String> warnings, String w) {
    List<String> l = new ArrayList<>(warnings);
    l.add(w);
    return List.copyOf(l);
  }
}
