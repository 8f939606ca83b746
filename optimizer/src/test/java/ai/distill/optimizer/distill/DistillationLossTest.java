package ai.distill.optimizer.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DistillationLossTest {

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  private static double bce(double q, double p) {
    return -(q * Math.log(p) + (1 - q) * Math.log(1 - p));
  }

  /** λ·T²·BCE(σ(z_t/T), σ(z_s/T)) + (1−λ)·BCE(y, σ(z_s)), written out literally. */
  private static double handLoss(double zs, double pt, int y, double t, double lambda) {
    double zt = Math.log(pt / (1 - pt));
    return lambda * t * t * bce(sigmoid(zt / t), sigmoid(zs / t))
        + (1 - lambda) * bce(y, sigmoid(zs));
  }

  @Test
  void loss_equals_the_hand_computed_value_for_several_temperatures_and_weights() {
    float[] teacher = {0.7f, 0.05f, 0.5f};
    byte[] labels = {1, 0, 1};
    double[] logits = {0.5, -2.0, 3.0};
    for (double t : new double[] {1.0, 2.0, 4.0, 0.5}) {
      for (double lambda : new double[] {0.0, 0.3, 0.5, 1.0}) {
        DistillationLoss loss = new DistillationLoss(teacher, labels, t, lambda);
        for (int i = 0; i < 3; i++) {
          double expected = handLoss(logits[i], teacher[i], labels[i], t, lambda);
          assertEquals(
              expected, loss.loss(i, logits[i]), 1e-6, "T=" + t + " λ=" + lambda + " row " + i);
          double h = 1e-5;
          double numeric = (loss.loss(i, logits[i] + h) - loss.loss(i, logits[i] - h)) / (2 * h);
          assertEquals(
              numeric, loss.gradient(i, logits[i]), 1e-5, "gradient T=" + t + " λ=" + lambda);
        }
      }
    }
  }

  @Test
  void a_known_value_worked_by_hand() {
    // z_s = 0, p_t = 0.5, y = 1, T = 2, λ = 0.5: 0.5·4·ln 2 + 0.5·ln 2 = 2.5·ln 2
    DistillationLoss loss = new DistillationLoss(new float[] {0.5f}, new byte[] {1}, 2.0, 0.5);
    assertEquals(2.5 * Math.log(2), loss.loss(0, 0.0), 1e-9);
    // gradient: λ·T·(σ(0) − σ(0)) + (1 − λ)·(σ(0) − 1) = −0.25
    assertEquals(-0.25, loss.gradient(0, 0.0), 1e-9);
  }

  @Test
  void unlabelled_rows_use_the_teacher_term_only() {
    DistillationLoss loss =
        new DistillationLoss(new float[] {0.2f, 0.2f}, new byte[] {-1, 1}, 3.0, 0.0);
    assertEquals(handLoss(0.4, 0.2, 0, 3.0, 1.0), loss.loss(0, 0.4), 1e-6);
    assertEquals(handLoss(0.4, 0.2, 1, 3.0, 0.0), loss.loss(1, 0.4), 1e-6);
    DistillationLoss noLabels = new DistillationLoss(new float[] {0.2f}, null, 3.0, 0.0);
    assertEquals(handLoss(0.4, 0.2, 0, 3.0, 1.0), noLabels.loss(0, 0.4), 1e-6);
  }

  @Test
  void extreme_teacher_probabilities_are_clipped_not_infinite() {
    DistillationLoss loss = new DistillationLoss(new float[] {0f, 1f}, null, 1.0, 1.0);
    assertEquals(true, Double.isFinite(loss.loss(0, -30)) && Double.isFinite(loss.loss(1, 30)));
    assertEquals(0.0, loss.loss(0, -16.118), 1e-5);
  }

  @Test
  void bad_settings_are_rejected() {
    assertEquals(
        "temperature : 0.0 (expected: > 0 and <= 100)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new DistillationLoss(new float[1], null, 0, 0.5))
            .getMessage());
    assertEquals(
        "alpha : 1.5 (expected: 0..1)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new DistillationLoss(new float[1], null, 1, 1.5))
            .getMessage());
  }
}
