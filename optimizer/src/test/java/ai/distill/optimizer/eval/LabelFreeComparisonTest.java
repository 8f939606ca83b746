package ai.distill.optimizer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.LabelFreeComparison.Bounds;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LabelFreeComparisonTest {

  /** CTR-like source scores: sigmoid of N(-2.2, 1), a mean of about 0.13. */
  private static float[] sourceScores(int n, long seed) {
    Random r = new Random(seed);
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      s[i] = (float) (1 / (1 + Math.exp(2.2 - r.nextGaussian())));
    }
    return s;
  }

  /** The pair-by-pair definition over distinct rows, O(n²). */
  private static double softAucByPairs(float[] scores, float[] labels) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = 0; j < scores.length; j++) {
        if (i == j) {
          continue;
        }
        double w = labels[i] * (1.0 - labels[j]);
        den += w;
        num += w * (scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0);
      }
    }
    return num / den;
  }

  @Test
  void identical_scores_pass_with_no_gap_and_full_rank_agreement() {
    float[] s = sourceScores(5_000, 1);

    LabelFreeComparison c = LabelFreeComparison.of(s, s.clone());

    assertEquals(0.0, c.softAucGap(), 0.0);
    assertEquals(1.0, c.spearman(), 1e-12);
    assertEquals(0.0, c.meanAbsDiff());
    assertEquals(0.0, c.maxAbsDiff());
    assertEquals(1.0, c.meanPredictionRatio(), 1e-12);
    assertTrue(c.sourceSoftAuc() > 0.5 && c.sourceSoftAuc() < 1, "ceiling " + c.sourceSoftAuc());
    assertEquals(List.of(), c.check(Bounds.DEFAULTS));
  }

  @Test
  void a_candidate_with_small_noise_passes_the_defaults() {
    float[] s = sourceScores(5_000, 1);
    Random r = new Random(2);
    float[] noisy = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      noisy[i] = (float) Math.min(1, Math.max(0, s[i] + 0.002 * r.nextGaussian()));
    }

    LabelFreeComparison c = LabelFreeComparison.of(s, noisy);

    assertTrue(c.softAucGap() > 0, "noise costs some ranking: " + c.softAucGap());
    assertTrue(c.passes(Bounds.DEFAULTS), c.check(Bounds.DEFAULTS).toString());
    assertTrue(c.meanAbsDiff() > 0 && c.meanAbsDiff() < 0.003, "mad " + c.meanAbsDiff());
  }

  @Test
  void a_constant_candidate_fails_on_ranking_closeness_and_calibration() {
    float[] s = sourceScores(2_000, 1);
    float[] half = new float[s.length];
    Arrays.fill(half, 0.5f);

    LabelFreeComparison c = LabelFreeComparison.of(s, half);
    List<String> violations = c.check(Bounds.DEFAULTS);

    assertEquals(0.5, c.softAuc(), 1e-12);
    assertEquals(4, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("soft AUC gap "), violations.get(0));
    assertTrue(violations.get(1).startsWith("mean absolute difference "), violations.get(1));
    assertTrue(violations.get(1).endsWith(" > 0.01"), violations.get(1));
    assertTrue(
        violations.get(2).startsWith("Spearman rank agreement undefined"), violations.get(2));
    assertTrue(violations.get(3).startsWith("mean prediction ratio "), violations.get(3));
    assertTrue(violations.get(3).endsWith(" outside [0.99, 1.01]"), violations.get(3));
  }

  @Test
  void reversed_ranks_fail_on_ranking_but_keep_the_mean() {
    float[] s = sourceScores(2_000, 1);
    // the row with the k-th smallest source score gets the k-th largest: same values, reversed
    // order
    Integer[] order = new Integer[s.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Float.compare(s[x], s[y]));
    float[] reversed = new float[s.length];
    for (int k = 0; k < order.length; k++) {
      reversed[order[k]] = s[order[order.length - 1 - k]];
    }

    LabelFreeComparison c = LabelFreeComparison.of(s, reversed);
    List<String> violations = c.check(Bounds.DEFAULTS);

    assertEquals(-1.0, c.spearman(), 1e-9);
    assertEquals(1.0, c.meanPredictionRatio(), 1e-6);
    assertTrue(c.softAuc() < 0.5);
    assertEquals(3, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("soft AUC gap "));
    assertTrue(violations.get(1).startsWith("mean absolute difference "));
    assertEquals("Spearman rank agreement -1 < 0.98", violations.get(2));
  }

  @Test
  void scores_scaled_by_one_and_a_half_keep_the_ranking_and_fail_on_closeness_and_calibration() {
    float[] s = sourceScores(2_000, 1);
    float[] scaled = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      scaled[i] = s[i] * 1.5f;
    }

    LabelFreeComparison c = LabelFreeComparison.of(s, scaled);
    List<String> violations = c.check(Bounds.DEFAULTS);

    assertEquals(0.0, c.softAucGap(), 1e-12);
    assertEquals(1.0, c.spearman(), 1e-12);
    assertEquals(2, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("mean absolute difference "), violations.get(0));
    assertEquals("mean prediction ratio 1.5 outside [0.99, 1.01]", violations.get(1));
  }

  @Test
  void max_abs_diff_is_reported_and_bounded_only_when_asked() {
    float[] s = sourceScores(1_000, 1);
    float[] oneOff = s.clone();
    oneOff[17] = Math.min(1, s[17] + 0.3f);
    LabelFreeComparison c = LabelFreeComparison.of(s, oneOff);

    assertEquals(oneOff[17] - s[17], c.maxAbsDiff(), 1e-6);
    assertFalse(c.check(Bounds.DEFAULTS).stream().anyMatch(v -> v.startsWith("max absolute")));
    Bounds tight = new Bounds(0.002, 0.01, 0.1, 0.98, 0.99, 1.01);
    assertTrue(
        c.check(tight).stream().anyMatch(v -> v.startsWith("max absolute difference 0.3")),
        c.check(tight).toString());
  }

  @Test
  void soft_auc_equals_the_ordinary_auc_for_0_1_labels() {
    Random r = new Random(11);
    for (int trial = 0; trial < 50; trial++) {
      int n = 2 + r.nextInt(60);
      float[] scores = new float[n];
      float[] labels = new float[n];
      int[] intLabels = new int[n];
      for (int i = 0; i < n; i++) {
        scores[i] = r.nextInt(8) / 8f; // coarse, so there are ties
        intLabels[i] = r.nextInt(3) == 0 ? 1 : 0;
        labels[i] = intLabels[i];
      }
      double expected = softAucByPairs(scores, labels);
      double soft = LabelFreeComparison.softAuc(scores, labels);
      if (Double.isNaN(expected)) {
        assertTrue(Double.isNaN(soft), "trial " + trial);
      } else {
        assertEquals(expected, soft, 1e-12, "trial " + trial);
        assertEquals(ordinaryAuc(scores, intLabels), soft, 1e-12, "trial " + trial);
      }
    }
  }

  @Test
  void soft_auc_matches_the_pairwise_definition_for_soft_labels() {
    Random r = new Random(12);
    for (int trial = 0; trial < 50; trial++) {
      int n = 2 + r.nextInt(60);
      float[] scores = new float[n];
      float[] labels = new float[n];
      for (int i = 0; i < n; i++) {
        scores[i] = r.nextInt(10) / 10f - 0.3f; // negatives too, and ties
        labels[i] = r.nextFloat();
      }
      assertEquals(
          softAucByPairs(scores, labels),
          LabelFreeComparison.softAuc(scores, labels),
          1e-9,
          "trial " + trial);
    }
  }

  @Test
  void the_source_is_the_ceiling_of_any_ordering() {
    float[] s = sourceScores(300, 4);
    Random r = new Random(5);
    double ceiling = LabelFreeComparison.softAuc(s, s);
    for (int trial = 0; trial < 20; trial++) {
      float[] other = new float[s.length];
      for (int i = 0; i < s.length; i++) {
        other[i] = (float) (s[i] + 0.05 * r.nextGaussian());
      }
      assertTrue(LabelFreeComparison.softAuc(other, s) <= ceiling + 1e-12, "trial " + trial);
    }
  }

  @Test
  void degenerate_inputs_are_refused_or_reported_in_words() {
    assertThrows(
        IllegalArgumentException.class, () -> LabelFreeComparison.of(new float[2], new float[3]));
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LabelFreeComparison.of(new float[] {0.1f, 1.2f}, new float[] {0.1f, 0.2f}));
    assertTrue(e.getMessage().startsWith("source[1] : 1.2"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> LabelFreeComparison.of(new float[] {0.1f}, new float[] {Float.NaN}));

    LabelFreeComparison zeros =
        LabelFreeComparison.of(new float[] {0, 0, 0}, new float[] {0, 0, 0});
    assertEquals(
        List.of(
            "soft AUC undefined (the source scores are all 0 or all 1)",
            "Spearman rank agreement undefined (the source or the candidate scores are constant)",
            "mean prediction ratio undefined (the source's mean score is 0)"),
        zeros.check(Bounds.DEFAULTS));
    assertEquals(null, zeros.toMap().get("soft_auc"));
  }

  @Test
  void bounds_refuse_impossible_limits() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> new Bounds(0.002, 0.01, 1, 0.98, 1.01, 0.99));
    assertTrue(e.getMessage().startsWith("maxMeanPredictionRatio : 0.99"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Bounds(-1, 0.01, 1, 0.98, 0.99, 1.01));
  }

  /** The textbook AUC: the share of (positive, negative) pairs ranked right, ties half. */
  private static double ordinaryAuc(float[] scores, int[] labels) {
    double right = 0;
    long pairs = 0;
    for (int p = 0; p < scores.length; p++) {
      for (int q = 0; q < scores.length; q++) {
        if (labels[p] == 1 && labels[q] == 0) {
          pairs++;
          right += scores[p] > scores[q] ? 1 : scores[p] == scores[q] ? 0.5 : 0;
        }
      }
    }
    return right / pairs;
  }
}
