package ai.distill.optimizer.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Quality of one model on a set of rows. {@code auc} and {@code logloss} are computed over the
 * labelled rows only and are {@code NaN} when there are none (or only one class, for AUC).
 */
public record EvalReport(
    int rows,
    int labelledRows,
    double auc,
    double logloss,
    double meanPrediction,
    double positiveRate) {

  /**
   * JSON-friendly map: rows, auc, logloss, mean_prediction, labelled_rows, positive_rate (NaN →
   * null).
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rows", rows);
    m.put("auc", finite(auc));
    m.put("logloss", finite(logloss));
    m.put("mean_prediction", finite(meanPrediction));
    m.put("labelled_rows", labelledRows);
    m.put("positive_rate", finite(positiveRate));
    return m;
  }

  static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
