package ai.distill.gateway.experiment.stats;

import java.util.Arrays;

/**
 * The Benjamini–Hochberg step-up procedure, which keeps the false discovery rate at {@code q}
 * across several students compared with one teacher. Pure and thread-safe.
 */
public final class BenjaminiHochberg {

  private BenjaminiHochberg() {}

  /**
   * Which hypotheses are rejected at level {@code q} (here: which students are declared
   * non-inferior) given their p-values.
   */
  public static boolean[] reject(double[] pValues, double q) {
    int k = pValues.length;
    Integer[] order = new Integer[k];
    for (int i = 0; i < k; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(pValues[a], pValues[b]));
    int cutoff = -1;
    for (int rank = 0; rank < k; rank++) {
      if (pValues[order[rank]] <= (rank + 1) * q / k) {
        cutoff = rank;
      }
    }
    boolean[] reject = new boolean[k];
    for (int rank = 0; rank <= cutoff; rank++) {
      reject[order[rank]] = true;
    }
    return reject;
  }
}
