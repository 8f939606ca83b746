package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class QuantileBoundsTest {

  /** Φ⁻¹(0.99). */
  private static final double Z99 = 2.326_347_874_040_841;

  @Test
  void ranks_follow_the_normal_approximation_of_the_binomial() {
    // n = 2000, q = 0.99: nq = 1980, z·sqrt(19.8) = 11.462 → ranks 1968 and 1992 + 1
    assertEquals(1968, QuantileBounds.lowerRank(2_000, 0.99, 2.576));
    assertEquals(1993, QuantileBounds.upperRank(2_000, 0.99, 2.576));
    assertEquals(1980, QuantileBounds.estimateRank(2_000, 0.99));
    // the median of 100 at z = 1.96: 50 ∓ 9.8 → ranks 40 and 60 + 1
    double[] values = new double[100];
    for (int i = 0; i < values.length; i++) {
      values[i] = i + 1;
    }
    QuantileBounds b = QuantileBounds.ofSorted(values, 0.5, 1.96);
    assertEquals(new QuantileBounds(100, 0.5, 50, 40, 61, 40, 61), b);
    long[] longs = new long[100];
    for (int i = 0; i < longs.length; i++) {
      longs[i] = 10 * (i + 1);
    }
    assertEquals(
        new QuantileBounds(100, 0.5, 500, 400, 610, 40, 61),
        QuantileBounds.ofSorted(longs, 0.5, 1.96));
  }

  @Test
  void too_few_samples_have_no_upper_bound_and_a_clamped_lower_one() {
    double[] values = new double[100];
    Arrays.setAll(values, i -> i + 1);
    QuantileBounds b = QuantileBounds.ofSorted(values, 0.99, 2.576);
    assertFalse(b.hasUpper());
    assertTrue(Double.isNaN(b.upper()));
    assertEquals(96, b.lowerRank());
    assertEquals(99, b.estimate(), 0);
    QuantileBounds tiny = QuantileBounds.ofSorted(new double[] {7, 8}, 0.5, 2.576);
    assertEquals(1, tiny.lowerRank(), "clamped to the minimum");
    assertEquals(7, tiny.lower(), 0);
    QuantileBounds none = QuantileBounds.ofSorted(new double[0], 0.99, 2.576);
    assertEquals(0, none.n());
    assertTrue(Double.isNaN(none.lower()) && Double.isNaN(none.estimate()) && !none.hasUpper());
    // the smallest n with an upper rank <= n for p99 at z = 2.576
    long m = QuantileBounds.minSamplesForUpper(0.99, 2.576);
    assertTrue(QuantileBounds.upperRank(m, 0.99, 2.576) <= m);
    assertTrue(QuantileBounds.upperRank(m - 1, 0.99, 2.576) > m - 1);
    assertTrue(m > 800 && m < 900, "m = " + m);
  }

  @Test
  void histogram_bounds_enclose_the_exact_order_statistics() {
    SplittableRandom rnd = new SplittableRandom(7);
    long[] samples = new long[5_000];
    Histogram h = LatencyGuardrail.newHistogram();
    for (int i = 0; i < samples.length; i++) {
      samples[i] = (long) (2e6 * Math.exp(0.5 * rnd.nextGaussian()));
      h.recordValue(samples[i]);
    }
    Arrays.sort(samples);
    QuantileBounds exact = QuantileBounds.ofSorted(samples, 0.99, 2.576);
    QuantileBounds binned = QuantileBounds.of(h, 0.99, 2.576);
    assertEquals(exact.lowerRank(), binned.lowerRank());
    assertEquals(exact.upperRank(), binned.upperRank());
    assertTrue(
        binned.lower() <= exact.lower() && exact.lower() <= binned.lower() * 1.01,
        binned + " vs " + exact);
    assertTrue(
        binned.upper() >= exact.upper() && exact.upper() >= binned.upper() / 1.01,
        binned + " vs " + exact);
    assertEquals(exact.estimate(), binned.estimate(), exact.estimate() * 0.01);
    assertEquals(0, QuantileBounds.of(LatencyGuardrail.newHistogram(), 0.99, 2.576).n());
  }

  @Test
  void the_true_p99_lies_within_the_bounds_in_at_least_98_percent_of_runs() {
    int runs = 1_000;
    int n = 2_000;
    double exponentialP99 = Math.log(100);
    double lognormalP99 = 2e6 * Math.exp(0.5 * Z99);
    int coveredSorted = 0;
    int coveredHistogram = 0;
    double[] samples = new double[n];
    Histogram h = LatencyGuardrail.newHistogram();
    for (int seed = 0; seed < runs; seed++) {
      SplittableRandom rnd = new SplittableRandom(seed);
      for (int i = 0; i < n; i++) {
        samples[i] = -Math.log(1 - rnd.nextDouble());
      }
      Arrays.sort(samples);
      QuantileBounds b = QuantileBounds.ofSorted(samples, 0.99, QuantileBounds.DEFAULT_Z);
      coveredSorted += b.lower() <= exponentialP99 && exponentialP99 <= b.upper() ? 1 : 0;
      h.reset();
      for (int i = 0; i < n; i++) {
        h.recordValue((long) (2e6 * Math.exp(0.5 * rnd.nextGaussian())));
      }
      QuantileBounds c = QuantileBounds.of(h, 0.99, QuantileBounds.DEFAULT_Z);
      coveredHistogram += c.lower() <= lognormalP99 && lognormalP99 <= c.upper() ? 1 : 0;
    }
    SequentialSrmTest.report(
        "p99 bounds at n = 2000, z = 2.576",
        runs,
        "covered (exponential, sorted)",
        coveredSorted,
        "covered (lognormal, histogram)",
        coveredHistogram);
    assertTrue(coveredSorted >= 0.98 * runs, coveredSorted + " of " + runs);
    assertTrue(coveredHistogram >= 0.98 * runs, coveredHistogram + " of " + runs);
  }

  @Test
  void rejects_a_quantile_outside_the_unit_interval() {
    assertEquals(
        "quantile : 1.0 (expected: 0 < q < 1)",
        assertThrows(
                IllegalArgumentException.class,
                () -> QuantileBounds.ofSorted(new double[] {1}, 1.0, 2.576))
            .getMessage());
    assertEquals(
        "z : -1.0 (expected: > 0)",
        assertThrows(
                IllegalArgumentException.class,
                () -> QuantileBounds.ofSorted(new double[] {1}, 0.5, -1))
            .getMessage());
  }
}
