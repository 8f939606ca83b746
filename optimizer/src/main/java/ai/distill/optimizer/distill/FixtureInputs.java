package ai.distill.optimizer.distill;

import ai.distill.optimizer.table.RowTable;
import java.util.List;
import java.util.Random;

/**
 * Generates unlabelled input rows from the input distribution of the ctr-mlp-torch fixture (see its
 * README): every INT64 value is (Z − 1)·7 mod 1000 with Z ~ Zipf(1.3), every FLOAT value ln(1 + X)
 * with X log-normal (μ = 1.0, σ = 1.2). Works for any signature with FLOAT/INT64 inputs, so
 * distillation of the fixture teacher can use as many rows as it needs. Stateless.
 */
public final class FixtureInputs {

  private static final ZipfSampler ZIPF = ZipfSampler.unbounded(1.3);

  private FixtureInputs() {}

  /** {@code rows} rows for {@code signature}, seeded. */
  public static RowTable generate(TeacherSignature signature, int rows, long seed) {
    if (rows < 0) {
      throw new IllegalArgumentException("rows : " + rows + " (expected: >= 0)");
    }
    Random random = new Random(seed);
    List<TeacherSignature.Input> inputs = signature.inputs();
    Object[] columns = new Object[inputs.size()];
    for (int k = 0; k < inputs.size(); k++) {
      int n = rows * inputs.get(k).width();
      columns[k] = inputs.get(k).kind() == TeacherSignature.Kind.DENSE ? new float[n] : new long[n];
    }
    for (int r = 0; r < rows; r++) {
      for (int k = 0; k < inputs.size(); k++) {
        int w = inputs.get(k).width();
        if (columns[k] instanceof float[] f) {
          for (int j = 0; j < w; j++) {
            f[r * w + j] = (float) denseValue(random);
          }
        } else {
          long[] l = (long[]) columns[k];
          for (int j = 0; j < w; j++) {
            l[r * w + j] = sparseValue(random);
          }
        }
      }
    }
    return RowTable.of(signature.columns(), rows, columns, null);
  }

  /** ln(1 + X), X log-normal(1.0, 1.2). */
  public static double denseValue(Random random) {
    return Math.log1p(Math.exp(1.0 + 1.2 * random.nextGaussian()));
  }

  /** (Z − 1)·7 mod 1000, Z ~ Zipf(1.3). */
  public static long sparseValue(Random random) {
    long z = ZIPF.sample(random);
    return Math.min(999, Math.floorMod((z - 1) % 1000 * 7, 1000));
  }
}
