package ai.distill.optimizer.distill;

import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.QuantizationException;
import ai.distill.optimizer.quant.QuantizeOptions;
import ai.distill.optimizer.quant.QuantizeResult;
import ai.distill.optimizer.quant.Quantizer;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
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
   * {@link #quantize(byte[], byte[], RowTable, RowTable, DistillOptions, ProgressListener)} without
   * a teacher.
   */
  public static Int8Student quantize(
      byte[] student,
      RowTable calibration,
      RowTable evalRows,
      DistillOptions options,
      ProgressListener progress) {
    return quantize(student, null, calibration, evalRows, options, progress);
  }

  /**
   * Quantizes {@code student}: calibration on up to 2,000 of {@code calibration}'s rows, the
   * accuracy gate on {@code evalRows} (or, when null, on up to 10,000 other rows of {@code
   * calibration}). The quantizer's gate compares the INT8 student with the FP32 student: labelled
   * when those rows carry enough labels, else label-free with the quantizer's bounds. Without
   * enough labels the INT8 student is also held, label-free, to {@code options.gate()} against
   * {@code teacher}'s scores on the same rows (when a teacher is given). A failed gate or speed
   * check is an {@link IllegalArgumentException} saying so (a {@link DistillGateException} for the
   * teacher gate); a failed speed check is measured once more first (small models on a shared
   * machine are noisy). The metrics hold {@code gate} (INT8 vs FP32 student), {@code teacher_gate}
   * (INT8 vs teacher, when it ran) and the calibration rows' {@link ReferenceSketch} under {@link
   * ReferenceSketch#METRICS_KEY}.
   *
   * @param teacher the teacher's ONNX bytes, or null to skip the teacher gate
   */
  public static Int8Student quantize(
      byte[] student,
      byte[] teacher,
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
    GateVerdict teacherGate = null;
    if (teacher != null && !GateVerdict.labelsSuffice(held)) {
      TableScorer.Options scoring =
          TableScorer.Options.defaults().withThreads(Math.max(1, options.teacherThreads()));
      float[] t;
      try (TableScorer scorer = TableScorer.open(teacher, "teacher", scoring)) {
        t = Distiller.probabilities(scorer, held, "teacher");
      }
      float[] p = Evaluator.predict(r.model(), held, null, scoring);
      teacherGate =
          DistillGate.check(
              "the INT8 student",
              GateVerdict.labelFree(LabelFreeComparison.of(t, p), options.gate().labelFree()));
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
    m.put("gate", r.report().gateMap());
    if (teacherGate != null) {
      m.put("teacher_gate", teacherGate.toMap());
    }
    m.put("quantization", r.report().toMap());
    if (r.sketch() != null) {
      m.put(ReferenceSketch.METRICS_KEY, r.sketch().toMap());
    }
    String quality =
        Double.isNaN(cmp.candidate().auc())
            ? "label-free vs FP32 student: "
                + labelFreeLine(r.report().gate())
                + (teacherGate == null ? "" : "; vs teacher: " + labelFreeLine(teacherGate))
            : String.format(
                java.util.Locale.ROOT,
                "AUC %.4f (FP32 student %.4f)",
                cmp.candidate().auc(),
                cmp.reference().auc());
    progress.progress(
        "int8",
        1,
        String.format(
            java.util.Locale.ROOT,
            "int8 student: %s, %d bytes%s",
            quality,
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

  private static String labelFreeLine(GateVerdict v) {
    Map<String, Object> n = v.numbers();
    return String.format(
        java.util.Locale.ROOT,
        "soft AUC gap %.5f, mean|diff| %.5f, spearman %.4f, mean ratio %.4f",
        num(n.get("soft_auc_gap")),
        num(n.get("mean_abs_diff")),
        num(n.get("spearman")),
        num(n.get("mean_prediction_ratio")));
  }

  private static double num(Object o) {
    return o instanceof Number x ? x.doubleValue() : Double.NaN;
  }
}
