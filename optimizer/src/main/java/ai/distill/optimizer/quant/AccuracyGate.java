package ai.distill.optimizer.quant;

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
 * The accuracy gate: an INT8 model passes when |ΔAUC| and the relative change of the mean
 * prediction on held-out rows stay within bounds (a bound is skipped when its figure is undefined,
 * e.g. AUC without labels). {@link #enforce} reverts the most sensitive layers to FP32 one at a
 * time until the gate holds, or fails. Immutable and thread-safe; evaluating a model is the
 * caller's function.
 */
public final class AccuracyGate {

  /**
   * The gated model.
   *
   * @param model the model that passed, with {@code fellBack} layers in FP32
   * @param comparison FP32 vs that model on the held-out rows
   * @param fellBack layers reverted to FP32, in order
   * @param reasons why each was reverted
   */
  public record Outcome(
      OnnxModel model,
      ModelComparison comparison,
      List<String> fellBack,
      Map<String, String> reasons) {}

  private final double maxAucDrop;
  private final double maxMeanShift;
  private final int maxFallbacks;

  public AccuracyGate(double maxAucDrop, double maxMeanShift, int maxFallbacks) {
    this.maxAucDrop = maxAucDrop;
    this.maxMeanShift = maxMeanShift;
    this.maxFallbacks = maxFallbacks;
  }

  public static AccuracyGate of(QuantizeOptions o) {
    return new AccuracyGate(o.maxAucDrop(), o.maxMeanShift(), o.maxFallbacks());
  }

  public boolean passes(ModelComparison c) {
    boolean auc = Double.isNaN(c.aucDelta()) || Math.abs(c.aucDelta()) <= maxAucDrop;
    double shift = c.meanPredictionRelativeChange();
    boolean mean = Double.isNaN(shift) || Math.abs(shift) <= maxMeanShift;
    return auc && mean;
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
   * Starts from {@code full} (every layer quantized) and reverts layers in {@link #revertOrder}
   * until the gate passes; at most {@code maxFallbacks} layers, and never all of them.
   *
   * @param build the model with the given layers kept in FP32
   * @param layers the sensitivity of every quantized layer
   * @param evaluate FP32 vs a candidate on the held-out rows
   * @param progress stage {@code gate}; asked about cancellation before each revert
   * @throws QuantizationException ({@link Reason#ACCURACY_GATE}) when the gate cannot be met
   */
  public Outcome enforce(
      OnnxModel full,
      Function<Set<String>, OnnxModel> build,
      List<LayerReport> layers,
      Function<OnnxModel, ModelComparison> evaluate,
      ProgressListener progress) {
    OnnxModel current = full;
    ModelComparison cmp = evaluate.apply(current);
    List<LayerReport> order = revertOrder(layers, !Double.isNaN(cmp.reference().auc()));
    Set<String> fellBack = new LinkedHashSet<>();
    Map<String, String> reasons = new LinkedHashMap<>();
    while (!passes(cmp)) {
      if (fellBack.size() >= maxFallbacks || fellBack.size() >= layers.size() - 1) {
        throw new QuantizationException(
            Reason.ACCURACY_GATE,
            String.format(
                Locale.ROOT,
                "accuracy gate failed: dAUC %.5f (allowed %s), mean prediction change %.4f (allowed %s) on %d"
                    + " held-out rows after reverting %s to FP32; try --method entropy or minmax, more"
                    + " calibration rows, or a larger --max-auc-drop",
                cmp.aucDelta(),
                maxAucDrop,
                cmp.meanPredictionRelativeChange(),
                maxMeanShift,
                cmp.reference().rows(),
                fellBack));
      }
      progress.checkCancelled("gate");
      LayerReport worst = order.get(fellBack.size());
      String why =
          String.format(
              Locale.ROOT,
              "gate failed with it int8: dAUC %.5f, dmean %.4f; most sensitive left",
              cmp.aucDelta(),
              cmp.meanPredictionRelativeChange());
      fellBack.add(worst.layer());
      reasons.put(worst.layer(), why);
      progress.progress(
          "gate",
          (double) fellBack.size() / Math.max(1, Math.min(maxFallbacks, layers.size() - 1)),
          "gate failed (dAUC "
              + String.format(Locale.ROOT, "%.5f", cmp.aucDelta())
              + "); reverting "
              + worst.layer()
              + " to FP32");
      current = build.apply(fellBack);
      cmp = evaluate.apply(current);
    }
    return new Outcome(current, cmp, List.copyOf(fellBack), reasons);
  }
}
