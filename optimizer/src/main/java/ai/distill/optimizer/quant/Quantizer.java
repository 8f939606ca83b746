package ai.distill.optimizer.quant;

import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.eval.ThroughputBenchmark;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QuantizationException.Reason;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsReader;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Static (QDQ) or dynamic INT8 quantization of an ONNX model, gated on accuracy: find the targets,
 * calibrate on some rows, rewrite, evaluate on other (held-out) rows, measure each layer's
 * sensitivity ({@link SensitivityAnalysis}), revert the most sensitive layers to FP32 until the
 * {@link AccuracyGate} holds, then check ORT forms integer kernels and that the result is not
 * slower. Stateless and thread-safe; each call owns and closes its ORT sessions. {@link
 * QuantizeJob} runs it against a model store.
 *
 * <pre>{@code
 * QuantizeResult r = Quantizer.quantize(Path.of("model.onnx"), Path.of("rows.jsonl"), QuantizeOptions.defaults());
 * System.out.print(r.report().toTable());
 * Files.write(out, r.model());
 * }</pre>
 */
public final class Quantizer {

  /** Fewest held-out rows the gate accepts. */
  public static final int MIN_HELD_OUT_ROWS = 20;

  /** Calibration and held-out rows, disjoint. */
  public record Split(List<Row> calibration, List<Row> heldOut) {}

  private Quantizer() {}

  /**
   * The deterministic split: the first half of the rows (at most {@code calibrationRows})
   * calibrates, the second half (at most {@code heldOutRows}) is held out for the gate.
   */
  public static Split split(List<Row> rows, QuantizeOptions o) {
    int half = rows.size() / 2;
    List<Row> cal = rows.subList(0, Math.min(half, o.calibrationRows()));
    List<Row> held = rows.subList(half, Math.min(rows.size(), half + o.heldOutRows()));
    return new Split(List.copyOf(cal), List.copyOf(held));
  }

  /** Reads rows (JSONL, a file or a directory of capture segments); at most {@code limit}. */
  public static List<Row> readRows(Path rows, int limit) {
    return RowsReader.readAll(rows, limit);
  }

  /** Rows needed to fill both halves of the {@link #split}. */
  public static int rowsToRead(QuantizeOptions o) {
    return 2 * Math.max(o.calibrationRows(), o.heldOutRows());
  }

  /** Quantizes a model file with rows from a JSONL file, split by {@link #split}. */
  public static QuantizeResult quantize(Path model, Path rows, QuantizeOptions o)
      throws IOException {
    OnnxModel m = OnnxModel.load(model);
    Split s = split(readRows(rows, rowsToRead(o)), o);
    return quantize(m, s.calibration(), s.heldOut(), o);
  }

  public static QuantizeResult quantize(
      Path model, List<Row> calibration, List<Row> heldOut, QuantizeOptions o) throws IOException {
    return quantize(OnnxModel.load(model), calibration, heldOut, o);
  }

  /**
   * Quantizes with rows that are checked against the model's inputs first (a misfit names its row).
   */
  public static QuantizeResult quantize(
      OnnxModel model, List<Row> calibration, List<Row> heldOut, QuantizeOptions o) {
    List<RowTable.Column> inputs = RowTable.inputsOf(model);
    return quantize(
        model, RowTable.fromRows(inputs, calibration), RowTable.fromRows(inputs, heldOut), o);
  }

  /**
   * Quantizes with calibration and held-out rows already in tables; see the class comment for the
   * steps.
   */
  public static QuantizeResult quantize(
      OnnxModel source, RowTable calibration, RowTable heldOut, QuantizeOptions o) {
    ProgressListener progress = o.progress();
    OnnxModel fusable = o.dynamic() || !o.integerDomain() ? source : LookupFusion.apply(source);
    List<QuantTarget> fusableTargets = targets(fusable, o);
    QdqRewriter.checkOpset(source);
    if (heldOut.rows() < MIN_HELD_OUT_ROWS) {
      throw new QuantizationException(
          Reason.NOT_ENOUGH_ROWS,
          "held-out rows: "
              + heldOut.rows()
              + " (need at least "
              + MIN_HELD_OUT_ROWS
              + " rows that are not calibration rows to check accuracy)");
    }
    byte[] fp32 = source.toBytes();
    List<String> warnings = new ArrayList<>();

    Map<String, Range> ranges =
        o.dynamic()
            ? new LinkedHashMap<>()
            : calibrate(fusable, fusableTargets, calibration, o, progress.within(0, 0.35));
    PropagationSearch.Fused lookups =
        PropagationSearch.fuseLookups(source, fusable, fusableTargets, ranges, heldOut, o);
    OnnxModel model = lookups.model();
    List<QuantTarget> targets = model == fusable ? fusableTargets : targets(source, o);
    Map<String, float[]> shifts =
        o.dynamic() || o.weightBits() == 8 && o.embeddingBits() == 8
            ? Map.of()
            : BiasCorrection.shifts(
                model,
                targets,
                s -> QdqRewriter.rewrite(model, targets, ranges, s, o, Set.of()),
                calibration,
                o.threads());
    // with 4 bits, a layer the gate reverts goes back to 8 bits, not to FP32
    Set<String> fourBit = Int4Weights.fourBitLayers(model, targets, o);
    Function<Set<String>, OnnxModel> build =
        reverted -> {
          if (o.dynamic()) {
            return DynamicRewriter.rewrite(model, targets, o, reverted);
          }
          Set<String> eightBits = new LinkedHashSet<>(reverted);
          eightBits.retainAll(fourBit);
          return QdqRewriter.rewrite(
              model,
              targets,
              ranges,
              without(shifts, reverted),
              o,
              without(reverted, fourBit),
              eightBits);
        };

    TableScorer.Options scoring = new TableScorer.Options(o.threads(), OptLevel.ALL_OPT, 256, null);
    String output = model.outputs().get(0).name();
    progress.checkCancelled("evaluate");
    progress.progress("evaluate", 0.35, "evaluating FP32 on " + heldOut.rows() + " held-out rows");
    float[] fp32Held = Evaluator.predict(fp32, heldOut, output, scoring);

    RowTable sens = heldOut.slice(0, Math.min(heldOut.rows(), o.sensitivityRows()));
    OnnxModel full = build.apply(Set.of());
    List<LayerReport> layers =
        SensitivityAnalysis.run(
            model,
            full,
            targets,
            build,
            sens,
            Arrays.copyOf(fp32Held, sens.rows()),
            output,
            scoring,
            progress.within(0.4, 0.7));

    boolean labelled = GateVerdict.labelsSuffice(heldOut);
    if (!labelled) {
      checkProbabilities(fp32Held, model);
      progress.progress(
          "gate",
          0.7,
          "held-out rows: "
              + GateVerdict.whyLabelFree(heldOut)
              + "; gating INT8 against the FP32 scores on the same rows (label-free)");
    }
    AccuracyGate gate = AccuracyGate.of(o, labelled);
    Function<OnnxModel, AccuracyGate.Evaluation> evaluate =
        candidate -> {
          float[] p = Evaluator.predict(candidate.toBytes(), heldOut, output, scoring);
          return new AccuracyGate.Evaluation(
              Evaluator.compare(fp32Held, p, heldOut),
              labelled ? null : LabelFreeComparison.of(fp32Held, p));
        };
    AccuracyGate.Outcome gated =
        gate.enforceOn(full, build, layers, evaluate, progress.within(0.7, 0.85));
    List<PropagationSearch.Decision> decisions = lookups.decisions();
    if (!o.dynamic() && o.integerDomain()) {
      progress.checkCancelled("propagate");
      PropagationSearch.Searched searched =
          PropagationSearch.afterGate(
              model,
              gated,
              calibration,
              heldOut,
              ranges,
              gate,
              evaluate,
              o,
              progress.within(0.85, 0.9));
      gated = searched.gated();
      decisions = new ArrayList<>(decisions);
      decisions.addAll(searched.decisions());
      gated =
          QuantizePushUp.afterSearch(
              gated, heldOut, gate, evaluate, o, progress.within(0.9, 0.92), decisions);
    }
    List<LayerReport> finalLayers = new ArrayList<>();
    for (LayerReport l : layers) {
      String why = gated.reasons().get(l.layer());
      finalLayers.add(
          !gated.fellBack().contains(l.layer())
              ? l
              : fourBit.contains(l.layer())
                  ? l.withEightBits(why.replace("with it int8", "with it in 4 bits"))
                  : l.withFallback(why));
    }

    byte[] int8 =
        gated
            .model()
            .withMetadata(
                "distill.quantization",
                (o.dynamic() ? "dynamic" : "static-qdq ")
                    + (o.dynamic() ? "" : o.method().jsonName()))
            .toBytes();
    progress.checkCancelled("kernels");
    KernelCounter.Kernels kernels = checkKernels(int8, targets, gated.fellBack(), o, warnings);
    ThroughputBenchmark.Result speed = null;
    if (o.speedCheck()) {
      progress.checkCancelled("speed");
      speed = checkSpeed(fp32, int8, heldOut, kernels, o, warnings);
    }
    QuantizeReport report =
        new QuantizeReport(
            o.dynamic() ? "dynamic" : "static-qdq",
            o.dynamic() ? "none" : o.method().jsonName(),
            o.percentile(),
            o.activationType().name(),
            o.symmetricActivations(),
            o.perChannel(),
            o.reduceRange(),
            o.embeddingBits(),
            o.weightBits(),
            o.dynamic() ? 0 : calibration.rows(),
            heldOut.rows(),
            sens.rows(),
            finalLayers,
            ranges,
            gated.comparison(),
            o.maxAucDrop(),
            o.maxMeanShift(),
            true,
            gated.fellBack(),
            gated.verdict(),
            kernels,
            source.sizeBytes(),
            int8.length,
            speed,
            decisions,
            List.copyOf(warnings));
    ReferenceSketch sketch =
        o.dynamic() ? null : CalibrationSketch.of(model, calibration).orElse(null);
    return new QuantizeResult(int8, report, sketch);
  }

  /** {@code all} without the keys/elements in {@code drop}. */
  private static <V> Map<String, V> without(Map<String, V> all, Set<String> drop) {
    Map<String, V> m = new LinkedHashMap<>(all);
    m.keySet().removeAll(drop);
    return m;
  }

  private static Set<String> without(Set<String> all, Set<String> drop) {
    Set<String> s = new LinkedHashSet<>(all);
    s.removeAll(drop);
    return s;
  }

  /** The label-free gate treats the source's scores as soft labels: they must be probabilities. */
  private static void checkProbabilities(float[] scores, OnnxModel model) {
    for (int i = 0; i < scores.length; i++) {
      if (!(scores[i] >= 0 && scores[i] <= 1)) {
        throw new QuantizationException(
            Reason.ACCURACY_GATE,
            "the held-out rows have too few labels for the"
                + " labelled gate (it needs "
                + GateVerdict.MIN_LABELLED_ROWS
                + " with both classes) and the"
                + " label-free gate needs probabilities, but output '"
                + model.outputs().get(0).name()
                + "' is "
                + scores[i]
                + " on held-out row "
                + (i + 1)
                + "; supply labelled rows");
      }
    }
  }

  /** The quantizable layers the caller did not exclude; none is an error. */
  static List<QuantTarget> targets(OnnxModel model, QuantizeOptions o) {
    List<QuantTarget> targets = new ArrayList<>();
    for (QuantTarget t : QuantTarget.find(model)) {
      if (!o.excludedLayers().contains(t.layer())) {
        targets.add(t);
      }
    }
    if (targets.isEmpty()) {
      throw new QuantizationException(
          Reason.NO_QUANTIZABLE_NODES,
          "the model has no quantizable nodes"
              + (o.excludedLayers().isEmpty() ? "" : " left after excluding " + o.excludedLayers())
              + " (looked for MatMul/Gemm with a 2-D float initializer weight and Gather on a 2-D float"
              + " initializer table); nothing was written");
    }
    return targets;
  }

  /**
   * An activation range per calibrated tensor, after checking there are enough calibration rows.
   */
  private static Map<String, Range> calibrate(
      OnnxModel model,
      List<QuantTarget> targets,
      RowTable calibration,
      QuantizeOptions o,
      ProgressListener progress) {
    Set<String> activations = new LinkedHashSet<>();
    for (QuantTarget t : targets) {
      if (t.activation() != null) {
        activations.add(t.activation());
      }
    }
    int floor = o.method().minimumRows(o.percentile(), 1);
    if (calibration.rows()
        < Math.min(floor, o.method() == CalibrationMethod.PERCENTILE ? 100 : floor)) {
      throw notEnough(calibration.rows(), floor, o);
    }
    Map<String, Range> ranges = new LinkedHashMap<>();
    if (activations.isEmpty()) {
      return ranges;
    }
    Map<String, TensorHistogram> stats =
        Calibrator.collect(
            model, activations, calibration, o.histogramBins(), o.threads(), progress);
    long widest = 1;
    for (TensorHistogram h : stats.values()) {
      widest = Math.max(widest, h.count() / Math.max(1, calibration.rows()));
    }
    int needed = o.method().minimumRows(o.percentile(), widest);
    if (calibration.rows() < needed) {
      throw notEnough(calibration.rows(), needed, o);
    }
    for (Map.Entry<String, TensorHistogram> e : stats.entrySet()) {
      if (e.getValue().nonFinite() > 0) {
        throw new IllegalArgumentException(
            "tensor '"
                + e.getKey()
                + "' produced "
                + e.getValue().nonFinite()
                + " NaN/infinite values during calibration; check the rows");
      }
      ranges.put(e.getKey(), o.method().range(e.getValue(), o.percentile()));
    }
    return ranges;
  }

  private static QuantizationException notEnough(int have, int needed, QuantizeOptions o) {
    return new QuantizationException(
        Reason.NOT_ENOUGH_ROWS,
        "calibration rows: "
            + have
            + " (the "
            + o.method().jsonName()
            + " method needs at least "
            + needed
            + " rows"
            + (o.method() == CalibrationMethod.PERCENTILE ? " at percentile " + o.percentile() : "")
            + "; supply more rows or use --method minmax)");
  }

  /**
   * Counts the integer kernels ORT forms; none, or fewer than the quantized MatMul/Gemm layers, is
   * a warning.
   */
  private static KernelCounter.Kernels checkKernels(
      byte[] int8,
      List<QuantTarget> targets,
      List<String> fellBack,
      QuantizeOptions o,
      List<String> warnings) {
    KernelCounter.Kernels kernels = KernelCounter.count(int8, o.threads());
    if (kernels.integerKernels() == 0) {
      warn(
          "NO integer kernels formed: ONNX Runtime kept every quantized layer in float (ops: "
              + kernels.ops()
              + "); this INT8 model will not run faster than FP32",
          0.85,
          o,
          warnings);
    } else {
      long matmuls =
          targets.stream()
              .filter(t -> t.kind() != QuantTarget.Kind.GATHER && !fellBack.contains(t.layer()))
              .count();
      if (kernels.integerKernels() < matmuls) {
        warn(
            "only "
                + kernels.integerKernels()
                + " of "
                + matmuls
                + " quantized MatMul/Gemm layers became"
                + " integer kernels (ops: "
                + kernels.ops()
                + ")"
                + (o.symmetricActivations()
                    ? "; symmetric activations keep each Relu before its QuantizeLinear, drop --symmetric"
                    : ""),
            0.85,
            o,
            warnings);
      }
    }
    return kernels;
  }

  /** FP32 vs INT8 at batch 256; a slower INT8 model is refused unless {@code force}. */
  private static ThroughputBenchmark.Result checkSpeed(
      byte[] fp32,
      byte[] int8,
      RowTable rows,
      KernelCounter.Kernels kernels,
      QuantizeOptions o,
      List<String> warnings) {
    o.progress().progress("speed", 0.9, "benchmarking FP32 vs INT8 at batch 256");
    ThroughputBenchmark.Result speed =
        ThroughputBenchmark.compare(
                fp32, int8, rows, new int[] {256}, o.threads(), Duration.ofMillis(300), 6)
            .get(0);
    // CPU time when measurable: wall time on a shared machine also counts other processes' turns
    double ratio = Double.isNaN(speed.cpuRatio()) ? speed.ratio() : speed.cpuRatio();
    if (ratio < 1.0) {
      String msg =
          String.format(
              Locale.ROOT,
              "the INT8 model is SLOWER than its source: %.0f vs %.0f rows/s"
                  + " (%.2fx wall, %.2fx CPU time) at batch 256; ORT formed %d integer kernel(s), %d float matmul(s) left",
              speed.candidateRowsPerSecond(),
              speed.referenceRowsPerSecond(),
              speed.ratio(),
              speed.cpuRatio(),
              kernels.integerKernels(),
              kernels.floatMatmuls());
      if (o.symmetricActivations()) {
        msg +=
            " (symmetric activations put a non-minimum zero point after each Relu, so ORT keeps the"
                + " Relu and cannot fuse it; drop --symmetric)";
      }
      if (!o.force()) {
        throw new QuantizationException(
            Reason.SLOWER_THAN_SOURCE, msg + "; not publishing it (use --force to publish anyway)");
      }
      warn(msg + "; kept because force was set", 0.95, o, warnings);
    }
    return speed;
  }

  private static void warn(
      String warning, double fraction, QuantizeOptions o, List<String> warnings) {
    warnings.add(warning);
    o.progress().progress("warning", fraction, "WARNING: " + warning);
  }
}
