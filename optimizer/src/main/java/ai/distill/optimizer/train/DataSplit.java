package ai.distill.optimizer.train;

import java.util.Arrays;
import java.util.Random;

/**
 * A seeded random split of row numbers into training and held-out rows (each sorted ascending).
 *
 * @param train training row numbers
 * @param heldOut held-out row numbers
 */
public record DataSplit(int[] train, int[] heldOut) {

  /** Holds out {@code heldOutRows} of {@code rows} rows, chosen by a seeded shuffle. */
  public static DataSplit random(int rows, int heldOutRows, long seed) {
    if (heldOutRows < 0 || heldOutRows >= rows) {
      throw new IllegalArgumentException(
          "heldOutRows : " + heldOutRows + " (expected: 0.." + (rows - 1) + ")");
    }
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) {
      order[i] = i;
    }
    Random random = new Random(seed ^ 0x5DEECE66DL);
    for (int i = rows - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] held = Arrays.copyOfRange(order, 0, heldOutRows);
    int[] train = Arrays.copyOfRange(order, heldOutRows, rows);
    Arrays.sort(held);
    Arrays.sort(train);
    return new DataSplit(train, held);
  }
}
