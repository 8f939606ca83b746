package ai.distill.optimizer.train;

/**
 * Row-major float kernels written so that C2 vectorises the inner loops (contiguous, unit stride).
 * Stateless and thread-safe.
 */
final class DenseKernels {

    private DenseKernels() {
    }

    /** {@code y[yOff..yOff+n) += a * x[xOff..xOff+n)}. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int j = 0; j < n; j++) {
            y[yOff + j] += a * x[xOff + j];
        }
    }

    /**
     * {@code y[r, :] += x[r, :] · W} for rows {@code [0, rows)}, with W stored row-major as [in][out]
     * and rows of x that are zero skipped (ReLU outputs are sparse). Four rows of W are fused per pass
     * over y to cut load/store traffic.
     */
    static void gemmAccumulate(float[] x, int rows, int in, float[] w, int out, float[] y) {
        for (int r = 0; r < rows; r++) {
            int xOff = r * in;
            int yOff = r * out;
            int i = 0;
            for (; i + 3 < in; i += 4) {
                float a0 = x[xOff + i];
                float a1 = x[xOff + i + 1];
                float a2 = x[xOff + i + 2];
                float a3 = x[xOff + i + 3];
                if (a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f) {
                    continue;
                }
                int w0 = i * out;
                int w1 = w0 + out;
                int w2 = w1 + out;
                int w3 = w2 + out;
                for (int j = 0; j < out; j++) {
                    y[yOff + j] += a0 * w[w0 + j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
                }
            }
            for (; i < in; i++) {
                float a = x[xOff + i];
                if (a != 0f) {
                    axpy(a, w, i * out, y, yOff, out);
                }
            }
        }
    }

    /**
     * {@code g[i, :] += Σ_r x[r, i] · d[r, :]} (the weight gradient xᵀ·d), g stored [in][out].
     * Four rows r are fused per pass over a row of g.
     */
    static void gemmTransposeAccumulate(float[] x, int rows, int in, float[] d, int out, float[] g) {
        for (int i = 0; i < in; i++) {
            int gOff = i * out;
            int r = 0;
            for (; r + 3 < rows; r += 4) {
                float a0 = x[r * in + i];
                float a1 = x[(r + 1) * in + i];
                float a2 = x[(r + 2) * in + i];
                float a3 = x[(r + 3) * in + i];
                if (a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f) {
                    continue;
                }
                int d0 = r * out;
                int d1 = d0 + out;
                int d2 = d1 + out;
                int d3 = d2 + out;
                for (int j = 0; j < out; j++) {
                    g[gOff + j] += a0 * d[d0 + j] + a1 * d[d1 + j] + a2 * d[d2 + j] + a3 * d[d3 + j];
                }
            }
            for (; r < rows; r++) {
                float a = x[r * in + i];
                if (a != 0f) {
                    axpy(a, d, r * out, g, gOff, out);
                }
            }
        }
    }

    /** Transposes a row-major [rows][cols] matrix into {@code dst} as [cols][rows]. */
    static void transpose(float[] src, int rows, int cols, float[] dst) {
        for (int r = 0; r < rows; r++) {
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[off + c];
            }
        }
    }

    /** {@code y += x} element-wise over the first n elements. */
    static void add(float[] x, float[] y, int n) {
        for (int j = 0; j < n; j++) {
            y[j] += x[j];
        }
    }
}
