package ai.distill.optimizer.distill;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.table.RowTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gate a distilled student (FP32, or INT8 against the teacher) must pass before anything is
 * published. With enough labels on the evaluation rows ({@link GateVerdict#labelsSuffice}) it is
 * labelled: the student's AUC may fall at most {@code maxAucDrop} below the teacher's and its mean
 * prediction move at most {@code maxMeanShift} (relative). Otherwise it is label-free: the
 * student's scores against the teacher's on the same rows ({@link LabelFreeComparison}) within
 * {@code labelFree}. Stateless.
 *
 * <p>The defaults are looser than the quantizer's ({@link LabelFreeComparison.Bounds#DEFAULTS}): an
 * INT8 copy is a rounding of its source and should differ by noise, while a student is a different,
 * smaller model trained to imitate the teacher and is expected to lose some ranking quality and to
 * disagree row by row. They refuse what is broken (a student that ranks differently, is biased or
 * learnt nothing), not one that is merely smaller:
 *
 * <ul>
 *   <li>labelled: AUC drop ≤ 0.05 (a good student stays within 0.01; 0.05 is a student that learnt
 *       little), mean prediction shift ≤ 20% (students trained with labels move towards the label
 *       rate);
 *   <li>label-free: soft AUC gap ≤ 0.02 (ten times the quantizer's), mean |Δ| ≤ 0.05 (five times),
 *       Spearman ≥ 0.8 (a broken or collapsed student falls far below; a good one keeps 0.9 or
 *       more), mean prediction ratio within [0.8, 1.2], max |Δ| unbounded.
 * </ul>
 */
public final class DistillGate {

  /**
   * The student gate's bounds.
   *
   * @param maxAucDrop labelled: teacher AUC − student AUC allowed
   * @param maxMeanShift labelled: relative change of the mean prediction allowed
   * @param labelFree label-free: the bounds against the teacher's scores
   */
  public record Bounds(
      double maxAucDrop, double maxMeanShift, LabelFreeComparison.Bounds labelFree) {

    public static final Bounds DEFAULTS =
        new Bounds(0.05, 0.2, new LabelFreeComparison.Bounds(0.02, 0.05, 1.0, 0.8, 0.8, 1.2));

    public Bounds {
      if (!(maxAucDrop >= 0)) {
        throw new IllegalArgumentException("maxAucDrop : " + maxAucDrop + " (expected: >= 0)");
      }
      if (!(maxMeanShift >= 0)) {
        throw new IllegalArgumentException("maxMeanShift : " + maxMeanShift + " (expected: >= 0)");
      }
      if (labelFree == null) {
        throw new IllegalArgumentException("labelFree : null (expected: label-free bounds)");
      }
    }

    /**
     * These bounds with the label-free figures replaced (and the labelled and label-free mean shift
     * set to {@code maxMeanShift}); a null argument keeps the current value.
     */
    public Bounds with(
        Double maxSoftAucGap, Double maxMeanAbsDiff, Double minRankAgreement, Double maxMeanShift) {
      LabelFreeComparison.Bounds l = labelFree;
      double shift = maxMeanShift != null ? maxMeanShift : this.maxMeanShift;
      return new Bounds(
          maxAucDrop,
          shift,
          new LabelFreeComparison.Bounds(
              maxSoftAucGap != null ? maxSoftAucGap : l.maxSoftAucGap(),
              maxMeanAbsDiff != null ? maxMeanAbsDiff : l.maxMeanAbsDiff(),
              l.maxMaxAbsDiff(),
              minRankAgreement != null ? minRankAgreement : l.minSpearman(),
              maxMeanShift != null ? Math.max(0, 1 - shift) : l.minMeanPredictionRatio(),
              maxMeanShift != null ? 1 + shift : l.maxMeanPredictionRatio()));
    }
  }

  private DistillGate() {}

  /**
   * The verdict on {@code student} against {@code teacher}, scores made on {@code rows} (same
   * order).
   */
  public static GateVerdict judge(RowTable rows, float[] teacher, float[] student, Bounds b) {
    if (!GateVerdict.labelsSuffice(rows)) {
      return GateVerdict.labelFree(LabelFreeComparison.of(teacher, student), b.labelFree());
    }
    int[] y = rows.labelValues();
    double teacherAuc = BinaryMetrics.auc(rows.labelledOnly(teacher), y);
    double studentAuc = BinaryMetrics.auc(rows.labelledOnly(student), y);
    double teacherMean = BinaryMetrics.mean(teacher);
    double shift = (BinaryMetrics.mean(student) - teacherMean) / teacherMean;
    Map<String, Object> n = new LinkedHashMap<>();
    n.put("rows", rows.rows());
    n.put("labelled_rows", y.length);
    n.put("teacher_auc", teacherAuc);
    n.put("student_auc", studentAuc);
    n.put("auc_delta", studentAuc - teacherAuc);
    n.put("mean_prediction_relative_change", Double.isFinite(shift) ? shift : null);
    n.put("max_auc_drop", b.maxAucDrop());
    n.put("max_mean_shift", b.maxMeanShift());
    List<String> v = new ArrayList<>();
    if (teacherAuc - studentAuc > b.maxAucDrop()) {
      v.add(
          String.format(
              Locale.ROOT,
              "AUC drop %.5f > %s (student %.5f, teacher %.5f)",
              teacherAuc - studentAuc,
              b.maxAucDrop(),
              studentAuc,
              teacherAuc));
    }
    if (!Double.isNaN(shift) && Math.abs(shift) > b.maxMeanShift()) {
      v.add(
          String.format(
              Locale.ROOT, "mean prediction change %.4f outside +/-%s", shift, b.maxMeanShift()));
    }
    return new GateVerdict(GateVerdict.LABELLED, v.isEmpty(), n, v);
  }

  /**
   * Refuses a failed verdict.
   *
   * @param what the candidate in words, e.g. "the student" or "the INT8 student"
   * @throws DistillGateException naming the gate and the violated bounds with their numbers
   */
  public static GateVerdict check(String what, GateVerdict v) {
    if (!v.passed()) {
      boolean labelFree = GateVerdict.LABEL_FREE.equals(v.mode());
      throw new DistillGateException(
          v,
          (labelFree
                  ? "label-free gate failed for "
                      + what
                      + " against the teacher (too few labels on the "
                      + v.numbers().get("rows")
                      + " evaluation rows, the labelled gate needs "
                      + GateVerdict.MIN_LABELLED_ROWS
                      + " with both classes; scores compared on the same rows): "
                  : "gate failed for "
                      + what
                      + " against the teacher on "
                      + v.numbers().get("rows")
                      + " rows: ")
              + String.join("; ", v.violations())
              + "; nothing was published (train longer, use a wider student"
              + " or more rows, or loosen "
              + (labelFree
                  ? "--max-soft-auc-gap, --max-mean-abs-diff," + " --min-rank-agreement, "
                  : "--max-auc-drop, ")
              + "--max-mean-shift)");
    }
    return v;
  }
}
