package ai.distill.optimizer.eval;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A candidate's scores against its source's scores on the same unlabelled rows, for the accuracy
 * gate when rows have no label: the candidate's AUC with the source's scores as soft labels (and
 * the same for the source itself, the ceiling), the absolute differences, the Spearman rank
 * agreement and the ratio of the mean predictions. Immutable; the static methods are stateless and
 * thread-safe.
 *
 * @param rows number of rows compared
 * @param softAuc the candidate's soft AUC: row i is a positive with weight {@code s_i} and a
 *     negative with weight {@code 1 − s_i} ({@code s} the source's scores), pairs ordered by the
 *     candidate's score, ties counting half; NaN when the source is all 0 or all 1
 * @param sourceSoftAuc the source's soft AUC against its own scores: no ordering does better, so
 *     this is the ceiling and {@link #softAucGap()} is at least 0
 * @param meanAbsDiff mean |candidate − source|
 * @param maxAbsDiff max |candidate − source|
 * @param spearman Spearman rank correlation (ties get averaged ranks); NaN when a side is constant
 * @param meanPredictionRatio mean candidate / mean source; NaN when the source's mean is 0
 */
public record LabelFreeComparison(
    int rows,
    double softAuc,
    double sourceSoftAuc,
    double meanAbsDiff,
    double maxAbsDiff,
    double spearman,
    double meanPredictionRatio) {

  /**
   * The limits the gate holds a candidate to. Defaults, for CTR-like scores (a few percent on
   * average):
   *
   * <ul>
   *   <li>soft AUC gap ≤ 0.002: in CTR ranking a change of 0.001 AUC is already counted as
   *       significant, and an INT8 variant usually stays within a few 1e-4 of its source; twice the
   *       "significant" step leaves room for that noise and refuses a real loss of ranking;
   *   <li>mean absolute difference ≤ 0.01: quantized scores differ by about 1e-3 per row; 0.01 is
   *       ten times that and still a tenth of a 0.1 score;
   *   <li>max absolute difference ≤ 1, i.e. not bounded: one row says little; tighten it to catch
   *       blow-ups;
   *   <li>Spearman ≥ 0.98: rank order is what ranking and auctions consume; quantized variants keep
   *       0.995 or more, while a broken one (reversed, collapsed, reading the wrong input) falls
   *       far below;
   *   <li>mean prediction ratio within [0.99, 1.01]: calibration, since the mean prediction sets
   *       expected clicks and bids, a 1% bias moves spend by 1%.
   * </ul>
   *
   * A distilled student is a different model, not a rounding of its source: loosen these for
   * distill jobs.
   */
  public record Bounds(
      double maxSoftAucGap,
      double maxMeanAbsDiff,
      double maxMaxAbsDiff,
      double minSpearman,
      double minMeanPredictionRatio,
      double maxMeanPredictionRatio) {

    public static final Bounds DEFAULTS = new Bounds(0.002, 0.01, 1.0, 0.98, 0.99, 1.01);

    public Bounds {
      requireAtLeast("maxSoftAucGap", maxSoftAucGap, 0);
      requireAtLeast("maxMeanAbsDiff", maxMeanAbsDiff, 0);
      requireAtLeast("maxMaxAbsDiff", maxMaxAbsDiff, 0);
      if (!(minSpearman >= -1 && minSpearman <= 1)) {
        throw new IllegalArgumentException(
            "minSpearman : " + minSpearman + " (expected: in [-1, 1])");
      }
      requireAtLeast("minMeanPredictionRatio", minMeanPredictionRatio, 0);
      if (!(maxMeanPredictionRatio >= minMeanPredictionRatio)) {
        throw new IllegalArgumentException(
            "maxMeanPredictionRatio : "
                + maxMeanPredictionRatio
                + " (expected: >= minMeanPredictionRatio "
                + minMeanPredictionRatio
                + ")");
      }
    }

    private static void requireAtLeast(String name, double v, double min) {
      if (!(v >= min)) {
        throw new IllegalArgumentException(name + " : " + v + " (expected: >= " + min + ")");
      }
    }
  }

  /**
   * Compares {@code candidate} with {@code source}, row by row.
   *
   * @throws IllegalArgumentException when the lengths differ, there are no rows, a source score is
   *     outside [0, 1] or a score is not finite (names the row)
   */
  public static LabelFreeComparison of(float[] source, float[] candidate) {
    if (source.length != candidate.length) {
      throw new IllegalArgumentException(
          "candidate : "
              + candidate.length
              + " scores (expected: "
              + source.length
              + ", one per source score)");
    }
    if (source.length == 0) {
      throw new IllegalArgumentException("source : no scores (expected: at least one row)");
    }
    checkSoftLabels("source", source);
    checkFinite("candidate", candidate);
    double sumAbs = 0;
    double maxAbs = 0;
    double sumSource = 0;
    double sumCandidate = 0;
    for (int i = 0; i < source.length; i++) {
      double d = Math.abs((double) candidate[i] - source[i]);
      sumAbs += d;
      maxAbs = Math.max(maxAbs, d);
      sumSource += source[i];
      sumCandidate += candidate[i];
    }
    int n = source.length;
    return new LabelFreeComparison(
        n,
        softAucUnchecked(candidate, source),
        softAucUnchecked(source, source),
        sumAbs / n,
        maxAbs,
        BinaryMetrics.spearman(source, candidate),
        sumSource == 0 ? Double.NaN : sumCandidate / sumSource);
  }

  /**
   * Weighted AUC of {@code scores} against soft labels in [0, 1]: over all pairs of distinct rows
   * (i, j), {@code Σ s_i (1 − s_j) [score_i > score_j, ties ½] / Σ s_i (1 − s_j)}. Equals the
   * ordinary AUC when the labels are 0/1. O(n log n). NaN when the labels are all 0 or all 1.
   */
  public static double softAuc(float[] scores, float[] softLabels) {
    if (scores.length != softLabels.length) {
      throw new IllegalArgumentException(
          "softLabels : "
              + softLabels.length
              + " values (expected: "
              + scores.length
              + ", one per score)");
    }
    checkSoftLabels("softLabels", softLabels);
    checkFinite("scores", scores);
    return softAucUnchecked(scores, softLabels);
  }

  /** Source soft AUC − candidate soft AUC: how much ranking quality the candidate loses, ≥ 0. */
  public double softAucGap() {
    return sourceSoftAuc - softAuc;
  }

  /** The bounds this comparison violates, in words with their numbers; empty when it passes. */
  public List<String> check(Bounds b) {
    List<String> out = new ArrayList<>();
    if (Double.isNaN(softAuc) || Double.isNaN(sourceSoftAuc)) {
      out.add("soft AUC undefined (the source scores are all 0 or all 1)");
    } else if (softAucGap() > b.maxSoftAucGap()) {
      out.add(
          "soft AUC gap "
              + num(softAucGap())
              + " > "
              + num(b.maxSoftAucGap())
              + " (candidate "
              + num(softAuc)
              + ", source "
              + num(sourceSoftAuc)
              + ")");
    }
    if (meanAbsDiff > b.maxMeanAbsDiff()) {
      out.add("mean absolute difference " + num(meanAbsDiff) + " > " + num(b.maxMeanAbsDiff()));
    }
    if (maxAbsDiff > b.maxMaxAbsDiff()) {
      out.add("max absolute difference " + num(maxAbsDiff) + " > " + num(b.maxMaxAbsDiff()));
    }
    if (Double.isNaN(spearman)) {
      out.add(
          "Spearman rank agreement undefined (the source or the candidate scores are constant)");
    } else if (spearman < b.minSpearman()) {
      out.add("Spearman rank agreement " + num(spearman) + " < " + num(b.minSpearman()));
    }
    if (Double.isNaN(meanPredictionRatio)) {
      out.add("mean prediction ratio undefined (the source's mean score is 0)");
    } else if (meanPredictionRatio < b.minMeanPredictionRatio()
        || meanPredictionRatio > b.maxMeanPredictionRatio()) {
      out.add(
          "mean prediction ratio "
              + num(meanPredictionRatio)
              + " outside ["
              + num(b.minMeanPredictionRatio())
              + ", "
              + num(b.maxMeanPredictionRatio())
              + "]");
    }
    return out;
  }

  public boolean passes(Bounds b) {
    return check(b).isEmpty();
  }

  /** JSON-compatible form (NaN becomes null). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rows", rows);
    m.put("soft_auc", finite(softAuc));
    m.put("source_soft_auc", finite(sourceSoftAuc));
    m.put("soft_auc_gap", finite(softAucGap()));
    m.put("mean_abs_diff", meanAbsDiff);
    m.put("max_abs_diff", maxAbsDiff);
    m.put("spearman", finite(spearman));
    m.put("mean_prediction_ratio", finite(meanPredictionRatio));
    return m;
  }

  private static double softAucUnchecked(float[] scores, float[] labels) {
    int[] order = ascending(scores);
    double numerator = 0;
    double negativesBelow = 0;
    double positives = 0;
    double negatives = 0;
    double selfPairs = 0;
    int i = 0;
    while (i < order.length) {
      double groupPositives = 0;
      double groupNegatives = 0;
      double groupSelf = 0;
      int j = i;
      for (; j < order.length && scores[order[j]] == scores[order[i]]; j++) {
        double s = labels[order[j]];
        groupPositives += s;
        groupNegatives += 1 - s;
        groupSelf += s * (1 - s);
      }
      // a row is not paired with itself: remove its own (tied, half-counted) pair from the group's
      // ties
      numerator +=
          groupPositives * negativesBelow + 0.5 * (groupPositives * groupNegatives - groupSelf);
      negativesBelow += groupNegatives;
      positives += groupPositives;
      negatives += groupNegatives;
      selfPairs += groupSelf;
      i = j;
    }
    double pairs = positives * negatives - selfPairs;
    return pairs <= 0 ? Double.NaN : numerator / pairs;
  }

  /**
   * Indices of {@code v} by ascending value (finite values), sorted as primitive longs: no boxing.
   */
  private static int[] ascending(float[] v) {
    long[] keys = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      int bits =
          Float.floatToIntBits(v[i] + 0.0f); // + 0.0f turns -0.0 into 0.0, which compares equal
      bits ^=
          (bits >> 31)
              & 0x7fffffff; // negative floats: reverse the magnitude so ints order like floats
      keys[i] = ((long) bits << 32) | i;
    }
    Arrays.sort(keys);
    int[] order = new int[v.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  private static void checkSoftLabels(String name, float[] s) {
    for (int i = 0; i < s.length; i++) {
      if (!(s[i] >= 0 && s[i] <= 1)) {
        throw new IllegalArgumentException(
            name + "[" + i + "] : " + s[i] + " (expected: a probability in [0, 1])");
      }
    }
  }

  private static void checkFinite(String name, float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new IllegalArgumentException(
            name + "[" + i + "] : " + v[i] + " (expected: a finite score)");
      }
    }
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /** Four significant digits, no trailing zeros: 0.031, 0.9812, 1.5. */
  private static String num(double v) {
    return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
  }
}
