package ai.distill.optimizer.distill;

import ai.distill.optimizer.train.RowLoss;

/**
 * The distillation loss of a sigmoid student, per row: {@code λ·T²·BCE(σ(z_t/T), σ(z_s/T)) +
 * (1−λ)·BCE(y, σ(z_s))}, where z_t is the teacher's logit (the logit of its probability, clipped to
 * [1e-7, 1 − 1e-7]) and λ is 1 for rows without a label. Immutable and thread-safe.
 *
 * <pre>{@code
 * RowLoss loss = new DistillationLoss(teacherProbabilities, labels, 2.0, 0.5);
 * }</pre>
 */
public final class DistillationLoss implements RowLoss {

  static final double CLIP = 1e-7;
  private final float[] softTargets;
  private final byte[] labels;
  private final double temperature;
  private final double alpha;
  private final double meanTarget;

  /**
   * @param teacherProbabilities the teacher's probability per row
   * @param labels 0/1 per row, or -1 for an unlabelled row; null when no row has a label
   * @param temperature T &gt; 0
   * @param alpha λ in [0, 1], the weight of the teacher term on labelled rows
   */
  public DistillationLoss(
      float[] teacherProbabilities, byte[] labels, double temperature, double alpha) {
    if (!(temperature > 0) || temperature > 100) {
      throw new IllegalArgumentException(
          "temperature : " + temperature + " (expected: > 0 and <= 100)");
    }
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("alpha : " + alpha + " (expected: 0..1)");
    }
    if (labels != null && labels.length != teacherProbabilities.length) {
      throw new IllegalArgumentException(
          "labels : "
              + labels.length
              + " rows (expected: "
              + teacherProbabilities.length
              + ", one per teacher probability)");
    }
    this.temperature = temperature;
    this.alpha = alpha;
    this.labels = labels;
    this.softTargets = new float[teacherProbabilities.length];
    double sum = 0;
    for (int i = 0; i < softTargets.length; i++) {
      double p = Math.min(1 - CLIP, Math.max(CLIP, teacherProbabilities[i]));
      sum += p;
      double zt = Math.log(p / (1 - p));
      softTargets[i] = (float) sigmoid(zt / temperature);
    }
    meanTarget = softTargets.length == 0 ? Double.NaN : sum / softTargets.length;
  }

  /** A plain binary cross-entropy on labels (λ = 0); every label must be 0 or 1. */
  public static DistillationLoss labelsOnly(byte[] labels) {
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] != 0 && labels[i] != 1) {
        throw new IllegalArgumentException("row " + (i + 1) + " has no label (expected: 0 or 1)");
      }
    }
    float[] prior = new float[labels.length];
    double rate = 0;
    for (byte b : labels) {
      rate += b;
    }
    java.util.Arrays.fill(prior, (float) (labels.length == 0 ? 0.5 : rate / labels.length));
    return new DistillationLoss(prior, labels, 1.0, 0.0);
  }

  @Override
  public double loss(int row, double logit) {
    double lambda = weight(row);
    double result = 0;
    if (lambda > 0) {
      double u = logit / temperature;
      result += lambda * temperature * temperature * (softplus(u) - softTargets[row] * u);
    }
    if (lambda < 1) {
      result += (1 - lambda) * (softplus(logit) - labels[row] * logit);
    }
    return result;
  }

  @Override
  public double gradient(int row, double logit) {
    double lambda = weight(row);
    double g = 0;
    if (lambda > 0) {
      g += lambda * temperature * (sigmoid(logit / temperature) - softTargets[row]);
    }
    if (lambda < 1) {
      g += (1 - lambda) * (sigmoid(logit) - labels[row]);
    }
    return g;
  }

  @Override
  public double meanTarget() {
    return meanTarget;
  }

  private double weight(int row) {
    return labels == null || labels[row] < 0 ? 1.0 : alpha;
  }

  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  static double softplus(double x) {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }
}
