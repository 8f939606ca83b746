package ai.distill.optimizer.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Two models on the same rows: each one's {@link EvalReport}, the absolute differences of their
 * predictions, and the rank agreement between them.
 */
public record ModelComparison(
    EvalReport reference,
    EvalReport candidate,
    double maxAbsDiff,
    double meanAbsDiff,
    double spearman) {

  /** candidate AUC − reference AUC ({@code NaN} without labels). */
  public double aucDelta() {
    return candidate.auc() - reference.auc();
  }

  /** Relative change of the mean prediction, (candidate − reference) / reference. */
  public double meanPredictionRelativeChange() {
    return (candidate.meanPrediction() - reference.meanPrediction()) / reference.meanPrediction();
  }

  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("reference", reference.toMap());
    m.put("candidate", candidate.toMap());
    m.put("auc_delta", EvalReport.finite(aucDelta()));
    m.put("mean_prediction_relative_change", EvalReport.finite(meanPredictionRelativeChange()));
    m.put("max_abs_diff", maxAbsDiff);
    m.put("mean_abs_diff", meanAbsDiff);
    m.put("spearman", EvalReport.finite(spearman));
    return m;
  }
}
