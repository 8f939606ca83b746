package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfidenceSequenceTest {

  @Test
  void confidence_sequence_is_wider_than_a_fixed_interval_and_its_p_value_agrees() {
    ConfidenceSequence t = ConfidenceSequence.DEFAULT;
    ConfidenceSequence.Result r = t.compare(0.101, 1e-6, 0.1, 1e-6, 0.99, 10_000);
    double se = Math.sqrt(2e-6 * (1 + 0.99 * 0.99) / 2);
    assertTrue(r.upper() - r.difference() > 1.96 * Math.sqrt(1e-6 + 0.99 * 0.99 * 1e-6));
    assertEquals(r.lower() > 0, r.pValue() < 0.05);
    assertTrue(se > 0);
  }

  @Test
  void benjamini_hochberg_rejects_up_to_the_largest_passing_rank() {
    assertArrayEquals(
        new boolean[] {true, true, false},
        BenjaminiHochberg.reject(new double[] {0.01, 0.03, 0.5}, 0.05));
    assertArrayEquals(
        new boolean[] {false, false}, BenjaminiHochberg.reject(new double[] {0.04, 0.2}, 0.05));
    assertArrayEquals(
        new boolean[] {true, true}, BenjaminiHochberg.reject(new double[] {0.045, 0.05}, 0.05));
  }
}
