package ai.distill.optimizer.quant;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sensitivity of one quantizable layer and what became of it.
 *
 * @param sqnrDb SQNR of the layer's output in the fully quantized model vs FP32 (dB)
 * @param aucDeltaAlone AUC change with only this layer quantized (NaN without labels)
 * @param meanShiftAlone relative mean-prediction change with only this layer quantized
 * @param meanAbsDiffAlone mean |Δprediction| with only this layer quantized
 * @param quantized whether the layer is INT8 in the result
 * @param note why it stayed FP32 (fallback or user exclusion) or went back from 4 to 8 bits, or
 *     empty
 */
public record LayerReport(
    String layer,
    String op,
    String weight,
    double sqnrDb,
    double aucDeltaAlone,
    double meanShiftAlone,
    double meanAbsDiffAlone,
    boolean quantized,
    String note) {

  public LayerReport withFallback(String why) {
    return new LayerReport(
        layer, op, weight, sqnrDb, aucDeltaAlone, meanShiftAlone, meanAbsDiffAlone, false, why);
  }

  /** Kept quantized, in 8 bits instead of the 4 asked for. */
  public LayerReport withEightBits(String why) {
    return new LayerReport(
        layer,
        op,
        weight,
        sqnrDb,
        aucDeltaAlone,
        meanShiftAlone,
        meanAbsDiffAlone,
        true,
        "8 bits: " + why);
  }

  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("layer", layer);
    m.put("op", op);
    m.put("weight", weight);
    m.put("sqnr_db", finite(sqnrDb));
    m.put("auc_delta_alone", finite(aucDeltaAlone));
    m.put("mean_shift_alone", finite(meanShiftAlone));
    m.put("mean_abs_diff_alone", finite(meanAbsDiffAlone));
    m.put("quantized", quantized);
    m.put("note", note);
    return m;
  }

  static Object finite(double v) {
    if (Double.isNaN(v)) {
      return null;
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return v;
  }
}
