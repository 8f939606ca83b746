package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.quant.CalibrationMethod.Range;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibrationMethodTest {

  private static TensorHistogram normalWithOutlier(int n, float outlier) {
    Random r = new Random(3);
    TensorHistogram h = new TensorHistogram(2048);
    float[] batch = new float[1000];
    for (int done = 0; done < n; done += batch.length) {
      for (int i = 0; i < batch.length; i++) {
        batch[i] = (float) r.nextGaussian();
      }
      h.add(batch);
    }
    h.add(new float[] {outlier});
    return h;
  }

  @Test
  void histogram_widens_and_keeps_exact_counts() {
    TensorHistogram h = new TensorHistogram(16);
    h.add(new float[] {0f, 1f});
    h.add(new float[] {-7.5f, 40f, 0.5f});
    assertEquals(5, h.count());
    assertEquals(-7.5, h.min());
    assertEquals(40, h.max());
    long total = 0;
    for (long c : h.counts()) {
      total += c;
    }
    assertEquals(5, total);
    assertTrue(h.origin() <= -7.5 && h.origin() + h.bins() * h.binWidth() >= 40);
  }

  @Test
  void minmax_keeps_an_outlier_and_percentile_clips_it() {
    TensorHistogram h = normalWithOutlier(200_000, 1000f);
    Range mm = CalibrationMethod.MINMAX.range(h, 99.999);
    assertEquals(1000, mm.max(), 1e-9);
    Range p = CalibrationMethod.PERCENTILE.range(h, 99.99);
    assertTrue(p.max() > 3 && p.max() < 6, "percentile max " + p.max());
    assertTrue(p.min() < -3 && p.min() > -6, "percentile min " + p.min());
  }

  @Test
  void percentile_of_a_uniform_sample_is_the_quantile() {
    TensorHistogram h = new TensorHistogram(2048);
    float[] v = new float[100_001];
    for (int i = 0; i < v.length; i++) {
      v[i] = i / 100_000f;
    }
    h.add(v);
    assertEquals(0.99, h.quantile(0.99), 1e-3);
    Range r = CalibrationMethod.PERCENTILE.range(h, 99.0);
    assertEquals(0.0, r.min()); // 0.01 widened to include 0
    assertEquals(0.99, r.max(), 1e-3);
  }

  @Test
  void entropy_threshold_is_below_max_on_a_heavy_tailed_sample() {
    Random r = new Random(5);
    TensorHistogram h = new TensorHistogram(2048);
    float[] v = new float[200_000];
    for (int i = 0; i < v.length; i++) {
      // Student-t with 2 degrees of freedom: heavy tails
      double z = r.nextGaussian();
      double c = Math.pow(r.nextGaussian(), 2) + Math.pow(r.nextGaussian(), 2);
      v[i] = (float) (z / Math.sqrt(c / 2));
    }
    h.add(v);
    Range e = CalibrationMethod.ENTROPY.range(h, 99.999);
    double absMax = Math.max(-h.min(), h.max());
    assertTrue(e.max() < absMax / 4, "entropy " + e + " vs max " + absMax);
    assertTrue(e.max() > 2, "entropy threshold too small: " + e);
  }

  @Test
  void entropy_on_relu_like_data_starts_at_zero() {
    Random r = new Random(9);
    TensorHistogram h = new TensorHistogram(2048);
    float[] v = new float[100_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.max(0, r.nextGaussian() * Math.exp(r.nextGaussian()));
    }
    h.add(v);
    Range e = CalibrationMethod.ENTROPY.range(h, 99.999);
    assertEquals(0.0, e.min());
    assertTrue(e.max() > 0 && e.max() <= h.max());
  }

  @Test
  void parse_names_the_accepted_values() {
    assertEquals(CalibrationMethod.ENTROPY, CalibrationMethod.parse("Entropy"));
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> CalibrationMethod.parse("kl"));
    assertEquals("method : kl (expected: minmax, percentile or entropy)", e.getMessage());
  }
}
