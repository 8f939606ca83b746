package ai.distill.gateway.experiment.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ChiSquareTest {

  @Test
  void chi_square_survival_matches_tables() {
    assertEquals(0.05, ChiSquare.survival(3.841458820694124, 1), 1e-9);
    assertEquals(0.001, ChiSquare.survival(10.827566170662733, 1), 1e-9);
    assertEquals(0.05, ChiSquare.survival(5.991464547107979, 2), 1e-9);
    assertEquals(0.01, ChiSquare.survival(23.209251158954356, 10), 1e-9);
    assertEquals(1.0, ChiSquare.survival(0, 3), 0);
  }

  @Test
  void srm_fires_on_a_deliberately_skewed_split() {
    assertTrue(
        ChiSquare.goodnessOfFitPValue(new long[] {5_000, 5_400}, new double[] {50, 50}) < 0.001);
    assertTrue(
        ChiSquare.goodnessOfFitPValue(new long[] {5_000, 5_050}, new double[] {50, 50}) > 0.001);
  }
}
