package ai.distill.optimizer.drift;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Rows shaped like the CTR world's: {@code dense} 13 standard normal floats, {@code sparse} 26
 * Zipf-distributed ids over a vocabulary of 1,000 per column, each column with its own (seeded)
 * permutation from rank to id.
 */
final class CtrLikeRows {

  static final int DENSE = 13;
  static final int SPARSE = 26;
  static final int VOCABULARY = 1_000;
  static final Map<String, InputKind> KINDS = kinds();

  private static final double[] ZIPF_CDF = zipfCdf(VOCABULARY, 1.1);

  /** Mean shift (in standard deviations) per dense column; 0 = unchanged. */
  final double[] denseShift = new double[DENSE];

  /** Rank → id per sparse column. */
  final long[][] idOfRank = new long[SPARSE][];

  CtrLikeRows() {
    Random r = new Random(7);
    for (int c = 0; c < SPARSE; c++) {
      idOfRank[c] = permutation(r, c * 10_000L);
    }
  }

  /** Re-draws column {@code c}'s rank → id mapping: the same Zipf shape, other ids on top. */
  CtrLikeRows repermute(int c, long seed) {
    idOfRank[c] = permutation(new Random(seed), c * 10_000L);
    return this;
  }

  CtrLikeRows shift(int c, double sd) {
    denseShift[c] = sd;
    return this;
  }

  List<Row> rows(int n, long seed) {
    Random r = new Random(seed);
    List<Row> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      double[] dense = new double[DENSE];
      for (int c = 0; c < DENSE; c++) {
        dense[c] = (float) (r.nextGaussian() + denseShift[c]);
      }
      double[] sparse = new double[SPARSE];
      for (int c = 0; c < SPARSE; c++) {
        sparse[c] = idOfRank[c][zipfRank(r.nextDouble())];
      }
      out.add(row(i + 1, dense, sparse));
    }
    return out;
  }

  static Row row(long line, double[] dense, double[] sparse) {
    Map<String, RowTensor> inputs = new LinkedHashMap<>();
    inputs.put("dense", RowTensor.flat(dense));
    inputs.put("sparse", RowTensor.flat(sparse));
    return new Row(line, inputs, null, null);
  }

  private static Map<String, InputKind> kinds() {
    Map<String, InputKind> k = new LinkedHashMap<>();
    k.put("dense", InputKind.FLOAT);
    k.put("sparse", InputKind.INT64);
    return k;
  }

  private static long[] permutation(Random r, long offset) {
    long[] ids = new long[VOCABULARY];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = offset + i;
    }
    for (int i = ids.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      long t = ids[i];
      ids[i] = ids[j];
      ids[j] = t;
    }
    return ids;
  }

  private static int zipfRank(double u) {
    int i = Arrays.binarySearch(ZIPF_CDF, u);
    return Math.min(VOCABULARY - 1, i >= 0 ? i : -i - 1);
  }

  private static double[] zipfCdf(int n, double s) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int k = 1; k <= n; k++) {
      sum += 1 / Math.pow(k, s);
      cdf[k - 1] = sum;
    }
    for (int k = 0; k < n; k++) {
      cdf[k] /= sum;
    }
    return cdf;
  }
}
