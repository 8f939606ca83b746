package ai.distill.optimizer.distill;

import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.QuantizationException;
import ai.distill.optimizer.quant.QuantizeOptions;
import ai.distill.optimizer.quant.QuantizeResult;
import ai.distill.optimizer.quant.Quantizer;
import ai.distill.optimizer.table.RowTable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The distill → quantize chain: static INT8 (QDQ) quantization of a distilled student with the
 * optimizer's {@link Quantizer}, calibrated on distillation rows and gated on evaluation rows.
 * Stateless.
 */
public final class Int8Chain {

  /**
   * An INT8 student.
   *
   * @param model ONNX bytes
   * @param metrics quantization report and evaluation figures for the manifest
   */
  public record Int8Student(byte[] model, Map<String, Object> metrics) {}

  private Int8Chain() {}

  /**
   * Quantizes {@code student}: calibration on up to 2,000 of {@code calibration}'s rows, the
   * accuracy gate on {@code evalRows} (or, when null, on up to 10,000 other rows of {@code
   * calibration}). A failed gate or speed check is an {@link IllegalArgumentException} saying so; a
   * failed speed check is measured once more first (small models on a shared machine are noisy).
   */
  public static Int8Student quantize(
      byte[] student,
      RowTable calibration,
      RowTable evalRows,
      DistillOptions options,
      ProgressListener progress) {
    QuantizeOptions q = QuantizeOptions.builder().progress(progress.prefixed("int8: ")).build();
    int calRows = Math.min(q.calibrationRows(), calibration.rows() / 2);
    RowTable cal = calibration.slice(0, calRows);
    RowTable held =
        evalRows != null
            ? evalRows.slice(0, Math.min(q.heldOutRows(), evalRows.rows()))
            : calibration.slice(calRows, Math.min(q.heldOutRows(), calibration.rows() - calRows));
    QuantizeResult r;
    try {
      try {
        r = Quantizer.quantize(OnnxModel.fromBytes(student), cal, held, q);
      } catch (QuantizationException e) {
        if (e.reason() != QuantizationException.Reason.SLOWER_THAN_SOURCE) {
          throw e;
        }
        // a small student's speed check is noisy on a shared machine: measure once more before
        // refusing
        progress.progress("int8", 0.5, "int8: " + e.getMessage() + "; measuring once more");
        r = Quantizer.quantize(OnnxModel.fromBytes(student), cal, held, q);
      }
    } catch (QuantizationException e) {
      throw new IllegalArgumentException(
          "INT8 quantization of the student failed ("
              + e.reason()
              + "): "
              + e.getMessage()
              + "; nothing was published (run without --int8 to keep the FP32 student)",
          e);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", "distill+int8");
    var cmp = r.report().comparison();
    Distiller.put(m, "auc", cmp.candidate().auc());
    Distiller.put(m, "logloss", cmp.candidate().logloss());
    Distiller.put(m, "mean_prediction", cmp.candidate().meanPrediction());
    Distiller.put(m, "fp32_student_auc", cmp.reference().auc());
    Distiller.put(m, "auc_delta_vs_fp32_student", cmp.aucDelta());
    Distiller.put(m, "size_bytes", r.model().length);
    m.put("quantization", r.report().toMap());
    progress.progress(
        "int8",
        1,
        String.format(
            java.util.Locale.ROOT,
            "int8 student: AUC %.4f (FP32 student %.4f), %d bytes%s",
            cmp.candidate().auc(),
            cmp.reference().auc(),
            r.model().length,
            r.report().speed() == null
                ? ""
                : String.format(
                    java.util.Locale.ROOT,
                    ", %.2fx FP32 rows/s at batch %d",
                    r.report().speed().ratio(),
                    r.report().speed().batch())));
    return new Int8Student(r.model(), m);
  }
}
