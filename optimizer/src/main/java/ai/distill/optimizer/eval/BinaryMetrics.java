package ai.distill.optimizer.eval;

import java.util.Arrays;

/**
 * Metrics for binary probability predictions: ROC AUC (ties get averaged ranks), log loss
 * (predictions clipped to [eps, 1-eps]), mean prediction, and Spearman rank correlation. Stateless
 * and thread-safe.
 */
public final class BinaryMetrics {

  /** Clipping used by {@link #logloss(float[], int[])}. */
  public static final double LOGLOSS_EPS = 1e-7;

  private BinaryMetrics() {}

  /** ROC AUC; {@code NaN} when the labels are all one class. */
  public static double auc(float[] predictions, int[] labels) {
    checkSameLength(predictions.length, labels.length);
    double[] ranks = ranks(toDoubles(predictions));
    long positives = 0;
    double rankSum = 0;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == 1) {
        positives++;
        rankSum += ranks[i];
      } else if (labels[i] != 0) {
        throw new IllegalArgumentException(
            "labels[" + i + "] : " + labels[i] + " (expected: 0 or 1)");
      }
    }
    long negatives = labels.length - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }

  public static double logloss(float[] predictions, int[] labels) {
    return logloss(predictions, labels, LOGLOSS_EPS);
  }

  /**
   * Mean binary cross-entropy with predictions clipped to [eps, 1 - eps]; {@code NaN} for no rows.
   */
  public static double logloss(float[] predictions, int[] labels, double eps) {
    checkSameLength(predictions.length, labels.length);
    if (predictions.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < predictions.length; i++) {
      double p = Math.min(1 - eps, Math.max(eps, predictions[i]));
      sum -= labels[i] == 1 ? Math.log(p) : Math.log(1 - p);
    }
    return sum / predictions.length;
  }

  public static double mean(float[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  /**
   * Spearman rank correlation (Pearson on averaged ranks); {@code NaN} if either side is constant.
   */
  public static double spearman(float[] a, float[] b) {
    checkSameLength(a.length, b.length);
    double[] ra = ranks(toDoubles(a));
    double[] rb = ranks(toDoubles(b));
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < ra.length; i++) {
      ma += ra[i];
      mb += rb[i];
    }
    ma /= ra.length;
    mb /= rb.length;
    double cov = 0;
    double va = 0;
    double vb = 0;
    for (int i = 0; i < ra.length; i++) {
      cov += (ra[i] - ma) * (rb[i] - mb);
      va += (ra[i] - ma) * (ra[i] - ma);
      vb += (rb[i] - mb) * (rb[i] - mb);
    }
    return va == 0 || vb == 0 ? Double.NaN : cov / Math.sqrt(va * vb);
  }

  /** 1-based ranks, ties replaced by the average of the ranks they span. */
  public static double[] ranks(double[] values) {
    Integer[] order = new Integer[values.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(values[x], values[y]));
    double[] ranks = new double[values.length];
    int i = 0;
    while (i < order.length) {
      int j = i;
      while (j + 1 < order.length && values[order[j + 1]] == values[order[i]]) {
        j++;
      }
      double avg = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = avg;
      }
      i = j + 1;
    }
    return ranks;
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static void checkSameLength(int a, int b) {
    if (a != b) {
      throw new IllegalArgumentException("lengths : " + a + " and " + b + " (expected: equal)");
    }
  }
}
