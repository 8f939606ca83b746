package ai.distill.optimizer.train;

/**
 * Model inputs of {@code rows} rows in flat row-major arrays: {@code ids[row * columns + c]} holds
 * the raw int64 id of categorical column c, {@code dense[row * denseWidth + f]} float feature f.
 * Targets live in the {@link RowLoss}, indexed by the same row numbers. Immutable by convention
 * (the arrays are shared, not copied); safe to read from several threads.
 */
public record TrainingSet(int rows, int columns, long[] ids, int denseWidth, float[] dense) {

  public TrainingSet {
    if (rows < 0) {
      throw new IllegalArgumentException("rows : " + rows + " (expected: >= 0)");
    }
    if (ids.length != (long) rows * columns) {
      throw new IllegalArgumentException(
          "ids.length : "
              + ids.length
              + " (expected: rows * columns = "
              + (long) rows * columns
              + ")");
    }
    if (dense.length != (long) rows * denseWidth) {
      throw new IllegalArgumentException(
          "dense.length : "
              + dense.length
              + " (expected: rows * denseWidth = "
              + (long) rows * denseWidth
              + ")");
    }
    if (columns + denseWidth == 0) {
      throw new IllegalArgumentException("a row needs at least one categorical or dense feature");
    }
  }

  /** The rows {@code [from, to)} as a new set (copies). */
  public TrainingSet slice(int from, int to) {
    return select(java.util.stream.IntStream.range(from, to).toArray());
  }

  /** The given rows, in the given order, as a new set (copies). */
  public TrainingSet select(int[] rowNumbers) {
    long[] i = new long[rowNumbers.length * columns];
    float[] d = new float[rowNumbers.length * denseWidth];
    for (int k = 0; k < rowNumbers.length; k++) {
      System.arraycopy(ids, rowNumbers[k] * columns, i, k * columns, columns);
      System.arraycopy(dense, rowNumbers[k] * denseWidth, d, k * denseWidth, denseWidth);
    }
    return new TrainingSet(rowNumbers.length, columns, i, denseWidth, d);
  }

  /**
   * Per column: the smallest power of two above the largest id, capped at the largest power of two
   * ≤ {@code maxVocabulary}. Powers of two let the exported graph hash ids with one BitwiseAnd.
   */
  public int[] vocabulary(int maxVocabulary) {
    long[] max = new long[columns];
    for (int r = 0; r < rows; r++) {
      int off = r * columns;
      for (int c = 0; c < columns; c++) {
        max[c] = Math.max(max[c], ids[off + c]);
      }
    }
    int[] v = new int[columns];
    for (int c = 0; c < columns; c++) {
      int cap = Integer.highestOneBit(Math.max(1, maxVocabulary));
      long need = Math.max(1, max[c] + 1);
      v[c] = need >= cap ? cap : Math.max(1, Integer.highestOneBit((int) need - 1) << 1);
    }
    return v;
  }

  /**
   * Per dense feature: {shift, scale} such that (x - shift) * scale has mean 0 and unit variance.
   */
  public float[][] denseStandardization() {
    double[] sum = new double[denseWidth];
    double[] sq = new double[denseWidth];
    for (int r = 0; r < rows; r++) {
      for (int f = 0; f < denseWidth; f++) {
        double x = dense[r * denseWidth + f];
        sum[f] += x;
        sq[f] += x * x;
      }
    }
    float[] shift = new float[denseWidth];
    float[] scale = new float[denseWidth];
    for (int f = 0; f < denseWidth; f++) {
      double mean = rows == 0 ? 0 : sum[f] / rows;
      double var = rows == 0 ? 1 : Math.max(0, sq[f] / rows - mean * mean);
      double std = Math.sqrt(var);
      shift[f] = (float) mean;
      scale[f] = std < 1e-6 ? 1f : (float) (1 / std);
    }
    return new float[][] {shift, scale};
  }
}
