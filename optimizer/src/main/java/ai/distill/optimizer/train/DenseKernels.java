package ai.distill.optimizer.train;

/**
 * Float kernels over arrays of rows ({@code float[row][column]}). Every inner loop indexes all its
 * arrays with the same index from 0, the form C2's SuperWord (JDK 17) vectorises; flat arrays with
 * different offsets per operand are not vectorised because they might alias. Stateless and
 * thread-safe.
 */
final class DenseKernels {

  private DenseKernels() {}

  /**
   * {@code y[r] += x[r] · W} for rows {@code [0, rows)}, W given as rows w[i] = W[i, 0..out). Four
   * rows of W are fused per pass over y[r]; all-zero groups of x (ReLU) are skipped.
   */
  static void gemmAccumulate(float[][] x, int rows, int in, float[][] w, int out, float[][] y) {
    for (int r = 0; r < rows; r++) {
      combine(x[r], in, w, out, y[r]);
    }
  }

  /**
   * {@code y += Σ_i a[i] · w[i][0..n)}, four terms fused per pass (more defeats C2's vectoriser).
   */
  static void combine(float[] a, int in, float[][] w, int n, float[] y) {
    int i = 0;
    for (; i + 3 < in; i += 4) {
      float a0 = a[i];
      float a1 = a[i + 1];
      float a2 = a[i + 2];
      float a3 = a[i + 3];
      if (a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f) {
        continue;
      }
      float[] w0 = w[i];
      float[] w1 = w[i + 1];
      float[] w2 = w[i + 2];
      float[] w3 = w[i + 3];
      for (int j = 0; j < n; j++) {
        y[j] += a0 * w0[j] + a1 * w1[j] + a2 * w2[j] + a3 * w3[j];
      }
    }
    for (; i < in; i++) {
      float ai = a[i];
      if (ai != 0f) {
        float[] wi = w[i];
        for (int j = 0; j < n; j++) {
          y[j] += ai * wi[j];
        }
      }
    }
  }

  /** {@code g[i] += Σ_r x[r][i] · d[r]} (the weight gradient xᵀ·d), four rows r fused per pass. */
  static void gemmTransposeAccumulate(
      float[][] x, int rows, int in, float[][] d, int out, float[][] g) {
    for (int i = 0; i < in; i++) {
      float[] gi = g[i];
      int r = 0;
      for (; r + 3 < rows; r += 4) {
        float a0 = x[r][i];
        float a1 = x[r + 1][i];
        float a2 = x[r + 2][i];
        float a3 = x[r + 3][i];
        if (a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f) {
          continue;
        }
        float[] d0 = d[r];
        float[] d1 = d[r + 1];
        float[] d2 = d[r + 2];
        float[] d3 = d[r + 3];
        for (int j = 0; j < out; j++) {
          gi[j] += a0 * d0[j] + a1 * d1[j] + a2 * d2[j] + a3 * d3[j];
        }
      }
      for (; r < rows; r++) {
        float a = x[r][i];
        if (a != 0f) {
          float[] dr = d[r];
          for (int j = 0; j < out; j++) {
            gi[j] += a * dr[j];
          }
        }
      }
    }
  }

  /** Row-major flat [rows][cols] into rows of {@code dst} ([rows][cols]). */
  static void toRows(float[] src, int rows, int cols, float[][] dst) {
    for (int r = 0; r < rows; r++) {
      System.arraycopy(src, r * cols, dst[r], 0, cols);
    }
  }

  /** Row-major flat [rows][cols] transposed into rows of {@code dst} ([cols][rows]). */
  static void transposeToRows(float[] src, int rows, int cols, float[][] dst) {
    for (int r = 0; r < rows; r++) {
      int off = r * cols;
      for (int c = 0; c < cols; c++) {
        dst[c][r] = src[off + c];
      }
    }
  }

  /** {@code y += x} element-wise. */
  static void add(float[] x, float[] y, int n) {
    for (int j = 0; j < n; j++) {
      y[j] += x[j];
    }
  }

  /** {@code y[yOff..yOff+n) += x[xOff..xOff+n)} (short rows; not vectorised). */
  static void addAt(float[] x, int xOff, float[] y, int yOff, int n) {
    for (int j = 0; j < n; j++) {
      y[yOff + j] += x[xOff + j];
    }
  }
}
