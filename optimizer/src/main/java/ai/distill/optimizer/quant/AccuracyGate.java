package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.QuantizationException.Reason;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The accuracy gate, in one of two modes. Labelled: an INT8 model passes when |ΔAUC| and the
 * relative change of the mean prediction on held-out rows stay within bounds (a bound is skipped
 * when its figure is undefined). Label-free, for held-out rows without enough labels ({@link
 * GateVerdict#labelsSuffice}): the INT8 model's scores are compared with the FP32 model's on the
 * same rows ({@link LabelFreeComparison}: soft AUC gap, mean |Δ|, rank agreement, mean prediction
 * ratio) and must stay within {@link LabelFreeComparison.Bounds}. {@link #enforce} reverts the most
 * sensitive layers to FP32 one at a time until the gate holds, or fails. Immutable and thread-safe;
 * evaluating a model is the caller's function.
 */
public final class AccuracyGate {

  /**
   * FP32 vs a candidate on the held-out rows.
   *
   * @param comparison the per-model reports and their differences
   * @param labelFree the candidate's scores against FP32's; required by the label-free gate, else
   *     may be null
   */
  public record Evaluation(ModelComparison comparison, LabelFreeComparison labelFree) {}

  /**
   * The gated model.
   *
   * @param model the model that passed, with {@code fellBack} layers in FP32
   * @param comparison FP32 vs that model on the held-out rows
   * @param fellBack layers reverted to FP32, in order
   * @param reasons why each was reverted
   * @param verdict the gate that ran and its numbers for the model that passed
   */
  public record Outcome(
      OnnxModel model,
      ModelComparison comparison,
      List<String> fellBack,
      Map<String, String> reasons,
      GateVerdict verdict) {}

  private final double maxAucDrop;
  private final double maxMeanShift;
  private final LabelFreeComparison.Bounds labelFreeBounds;
  private final int maxFallbacks;

  /** The labelled gate. */
  public AccuracyGate(double maxAucDrop, double maxMeanShift, int maxFallbacks) {
    this(maxAucDrop, maxMeanShift, null, maxFallbacks);
  }

  private AccuracyGate(
      double maxAucDrop,
      double maxMeanShift,
      LabelFreeComparison.Bounds labelFreeBounds,
      int maxFallbacks) {
    this.maxAucDrop = maxAucDrop;
    this.maxMeanShift = maxMeanShift;
    this.labelFreeBounds = labelFreeBounds;
    this.maxFallbacks = maxFallbacks;
  }

  /**
   * The label-free gate: each candidate is held to {@code bounds} against the FP32 model's scores.
   */
  public static AccuracyGate labelFree(LabelFreeComparison.Bounds bounds, int maxFallbacks) {
    if (bounds == null) {
      throw new IllegalArgumentException("bounds : null (expected: the label-free gate's bounds)");
    }
    return new AccuracyGate(Double.NaN, Double.NaN, bounds, maxFallbacks);
  }

  /** The labelled gate of {@code o}. */
  public static AccuracyGate of(QuantizeOptions o) {
    return new AccuracyGate(o.maxAucDrop(), o.maxMeanShift(), o.maxFallbacks());
  }

  /** The labelled gate of {@code o} when {@code labelled}, else its label-free gate. */
  public static AccuracyGate of(QuantizeOptions o, boolean labelled) {
    return labelled ? of(o) : labelFree(o.labelFreeBounds(), o.maxFallbacks());
  }

  /** True for the labelled gate. */
  public boolean labelled() {
    return labelFreeBounds == null;
  }

  /** The labelled rule on {@code c}. */
  public boolean passes(ModelComparison c) {
    return GateVerdict.labelled(c, maxAucDrop, maxMeanShift).passed();
  }

  /** This gate's verdict on {@code e}. */
  public GateVerdict judge(Evaluation e) {
    if (labelled()) {
      return GateVerdict.labelled(e.comparison(), maxAucDrop, maxMeanShift);
    }
    if (e.labelFree() == null) {
      throw new IllegalArgumentException(
          "evaluation : no label-free comparison (expected: the candidate's"
              + " scores against the source's for the label-free gate)");
    }
    return GateVerdict.labelFree(e.labelFree(), labelFreeBounds);
  }

  /**
   * The order layers revert in: largest |ΔAUC alone| first when the rows are labelled, else largest
   * mean |Δprediction| alone; ties broken by the lower SQNR.
   */
  public static List<LayerReport> revertOrder(List<LayerReport> layers, boolean labelled) {
    List<LayerReport> order = new ArrayList<>(layers);
    order.sort(
        Comparator.comparingDouble(
                (LayerReport l) ->
                    labelled && !Double.isNaN(l.aucDeltaAlone())
                        ? -Math.abs(l.aucDeltaAlone())
                        : -l.meanAbsDiffAlone())
            .thenComparingDouble(LayerReport::sqnrDb));
    return order;
  }

  /**
   * {@link #enforceOn} for the labelled gate with an evaluation that returns only the comparison.
   */
  public Outcome enforce(
      OnnxModel full,
      Function<Set<String>, OnnxModel> build,
      List<LayerReport> layers,
      Function<OnnxModel, ModelComparison> evaluate,
      ProgressListener progress) {
    return enforceOn(full, build, layers, m -> new Evaluation(evaluate.apply(m), null), progress);
  }

  /**
   * Starts from {@code full} (every layer quantized) and reverts layers in {@link #revertOrder}
   * until the gate passes; at most {@code maxFallbacks} layers, and never all of them.
   *
   * @param build the model with the given layers kept in FP32
   * @param layers the sensitivity of every quantized layer
   * @param evaluate FP32 vs a candidate on the held-out rows
   * @param progress stage {@code gate}; asked about cancellation before each revert
   * @throws QuantizationException ({@link Reason#ACCURACY_GATE}) when the gate cannot be met; the
   *     message says which gate ran and names each violated bound with its numbers
   */
  public Outcome enforceOn(
      OnnxModel full,
      Function<Set<String>, OnnxModel> build,
      List<LayerReport> layers,
      Function<OnnxModel, Evaluation> evaluate,
      ProgressListener progress) {
    OnnxModel current = full;
    Evaluation e = evaluate.apply(current);
    GateVerdict verdict = judge(e);
    List<LayerReport> order =
        revertOrder(layers, labelled() && !Double.isNaN(e.comparison().reference().auc()));
    Set<String> fellBack = new LinkedHashSet<>();
    Map<String, String> reasons = new LinkedHashMap<>();
    while (!verdict.passed()) {
      if (fellBack.size() >= maxFallbacks || fellBack.size() >= layers.size() - 1) {
        throw new QuantizationException(Reason.ACCURACY_GATE, failure(e, verdict, fellBack));
      }
      progress.checkCancelled("gate");
      LayerReport worst = order.get(fellBack.size());
      String why =
          labelled()
              ? String.format(
                  Locale.ROOT,
                  "gate failed with it int8: dAUC %.5f, dmean %.4f; most sensitive left",
                  e.comparison().aucDelta(),
                  e.comparison().meanPredictionRelativeChange())
              : "label-free gate failed with it int8: "
                  + String.join("; ", verdict.violations())
                  + "; most sensitive left";
      fellBack.add(worst.layer());
      reasons.put(worst.layer(), why);
      progress.progress(
          "gate",
          (double) fellBack.size() / Math.max(1, Math.min(maxFallbacks, layers.size() - 1)),
          (labelled()
                  ? "gate failed (dAUC "
                      + String.format(Locale.ROOT, "%.5f", e.comparison().aucDelta())
                  : "label-free gate failed (" + String.join("; ", verdict.violations()))
              + "); reverting "
              + worst.layer()
              + " to FP32");
      current = build.apply(fellBack);
      e = evaluate.apply(current);
      verdict = judge(e);
    }
    return new Outcome(current, e.comparison(), List.copyOf(fellBack), reasons, verdict);
  }

  private String failure(Evaluation e, GateVerdict verdict, Set<String> fellBack) {
    ModelComparison cmp = e.comparison();
    if (labelled()) {
      return String.format(
          Locale.ROOT,
          "accuracy gate failed: dAUC %.5f (allowed %s), mean prediction change %.4f (allowed %s) on %d"
              + " held-out rows after reverting %s to FP32; try --method entropy or minmax, more"
              + " calibration rows, or a larger --max-auc-drop",
          cmp.aucDelta(),
          maxAucDrop,
          cmp.meanPredictionRelativeChange(),
          maxMeanShift,
          cmp.reference().rows(),
          fellBack);
    }
    return "label-free accuracy gate failed (held-out rows without enough labels: "
        + cmp.reference().labelledRows()
        + " labelled of "
        + cmp.reference().rows()
        + ", the labelled gate needs "
        + GateVerdict.MIN_LABELLED_ROWS
        + " with both classes; INT8 scores compared with FP32 scores on the same rows): "
        + String.join("; ", verdict.violations())
        + " after reverting "
        + fellBack
        + " to FP32; try --method"
        + " entropy or minmax, more calibration rows, or looser --max-soft-auc-gap, --max-mean-abs-diff,"
        + " --min-rank-agreement or --max-mean-shift";
  }
}
