package ai.distill.optimizer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BinaryMetricsTest {

  @Test
  void auc_averages_tied_ranks() {
    // positives {0.4, 0.8} vs negatives {0.1, 0.4}: pairs 1 + 0.5 + 1 + 1 = 3.5 of 4
    assertEquals(
        0.875,
        BinaryMetrics.auc(new float[] {0.1f, 0.4f, 0.4f, 0.8f}, new int[] {0, 1, 0, 1}),
        1e-12);
    assertEquals(
        0.5, BinaryMetrics.auc(new float[] {0.3f, 0.3f, 0.3f}, new int[] {0, 1, 1}), 1e-12);
    assertEquals(0.0, BinaryMetrics.auc(new float[] {0.9f, 0.1f}, new int[] {0, 1}), 1e-12);
    assertTrue(Double.isNaN(BinaryMetrics.auc(new float[] {0.9f, 0.1f}, new int[] {1, 1})));
  }

  @Test
  void logloss_matches_hand_computed_and_clips() {
    assertEquals(
        (-Math.log(0.9) - Math.log(0.8)) / 2,
        BinaryMetrics.logloss(new float[] {0.9f, 0.2f}, new int[] {1, 0}),
        1e-7);
    assertEquals(-Math.log(1e-7), BinaryMetrics.logloss(new float[] {1f}, new int[] {0}), 1e-6);
  }

  @Test
  void spearman_and_ranks() {
    assertArrayEquals(
        new double[] {1, 2.5, 2.5, 4}, BinaryMetrics.ranks(new double[] {1, 5, 5, 9}));
    assertEquals(
        0.8, BinaryMetrics.spearman(new float[] {1, 2, 3, 4}, new float[] {1, 3, 2, 4}), 1e-12);
    assertEquals(-1.0, BinaryMetrics.spearman(new float[] {1, 2, 3}, new float[] {3, 2, 1}), 1e-12);
    assertEquals(0.25, BinaryMetrics.mean(new float[] {0.5f, 0f}), 1e-12);
  }
}
