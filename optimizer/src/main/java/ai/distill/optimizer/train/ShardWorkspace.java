package ai.distill.optimizer.train;

import java.util.Arrays;

/**
 * Activations and gradients of one shard of a mini-batch: forward and backward pass over up to
 * {@code capacity} rows. One workspace per worker task; never shared between threads at once.
 */
final class ShardWorkspace {

    private final int capacity;
    private final int layers;
    private final int[] widths;
    private final int embeddedWidth;
    /** act[l]: input of layer l, [rows][widths[l]]. */
    private final float[][] act;
    /** pre[l]: output of layer l before ReLU, [rows][widths[l + 1]]. */
    private final float[][] pre;
    /** delta[l]: d loss / d pre[l]. */
    private final float[][] delta;
    final float[][] gradW;
    final float[][] gradB;
    /** d loss / d embedded part of act[0], [rows][columns * embeddingDim]. */
    final float[] gradEmbedded;
    /** Source row number of each shard row. */
    final int[] sourceRow;
    final float[] observedLo;
    final float[] observedHi;
    int rows;
    double lossSum;

    ShardWorkspace(StudentNet net, int capacity) {
        this.capacity = capacity;
        this.layers = net.layers();
        this.widths = net.widths();
        this.embeddedWidth = net.columns() * net.embeddingDim();
        act = new float[layers][];
        pre = new float[layers][];
        delta = new float[layers][];
        gradW = new float[layers][];
        gradB = new float[layers][];
        for (int l = 0; l < layers; l++) {
            act[l] = new float[capacity * widths[l]];
            pre[l] = new float[capacity * widths[l + 1]];
            delta[l] = new float[capacity * widths[l + 1]];
            gradW[l] = new float[widths[l] * widths[l + 1]];
            gradB[l] = new float[widths[l + 1]];
        }
        gradEmbedded = new float[capacity * embeddedWidth];
        sourceRow = new int[capacity];
        observedLo = new float[layers];
        observedHi = new float[layers];
    }

    /**
     * Forward pass over {@code count} rows: {@code order[start + k]} (or {@code start + k} when order is
     * null). With {@code ranges} non-null, activations are observed and, once ranges are known,
     * fake-quantized (quantization-aware training).
     */
    void forward(StudentNet net, float[][] w, TrainingSet data, int[] order, int start, int count,
            ActivationRanges ranges) {
        if (count > capacity) {
            throw new IllegalStateException("shard rows " + count + " > capacity " + capacity);
        }
        rows = count;
        int columns = net.columns();
        int d = net.embeddingDim();
        int denseWidth = net.denseWidth();
        int in0 = widths[0];
        float[] x0 = act[0];
        float[] emb = net.embedding;
        long[] ids = data.ids();
        float[] dense = data.dense();
        for (int k = 0; k < count; k++) {
            int src = order == null ? start + k : order[start + k];
            sourceRow[k] = src;
            int base = k * in0;
            for (int c = 0; c < columns; c++) {
                int row = net.tableRow(c, ids[src * columns + c]);
                System.arraycopy(emb, row * d, x0, base + c * d, d);
            }
            int db = base + embeddedWidth;
            int ds = src * denseWidth;
            for (int f = 0; f < denseWidth; f++) {
                x0[db + f] = (dense[ds + f] - net.denseShiftOf(f)) * net.denseScaleOf(f);
            }
        }
        quantize(0, ranges);
        for (int l = 0; l < layers; l++) {
            int in = widths[l];
            int out = widths[l + 1];
            float[] y = pre[l];
            float[] b = net.biases[l];
            for (int k = 0; k < count; k++) {
                System.arraycopy(b, 0, y, k * out, out);
            }
            DenseKernels.gemmAccumulate(act[l], count, in, w[l], out, y);
            if (l + 1 < layers) {
                float[] a = act[l + 1];
                int n = count * out;
                for (int j = 0; j < n; j++) {
                    a[j] = Math.max(y[j], 0f);
                }
                quantize(l + 1, ranges);
            }
        }
    }

    private void quantize(int l, ActivationRanges ranges) {
        if (ranges == null) {
            return;
        }
        float[] a = act[l];
        int n = rows * widths[l];
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            lo = Math.min(lo, a[j]);
            hi = Math.max(hi, a[j]);
        }
        observedLo[l] = lo;
        observedHi[l] = hi;
        if (ranges.ready()) {
            FakeQuant.activations(a, n, ranges.lo(l), ranges.hi(l));
        }
    }

    /** The logit of shard row k after {@link #forward}. */
    float logit(int k) {
        return pre[layers - 1][k];
    }

    void copyLogits(float[] out, int offset, int count) {
        System.arraycopy(pre[layers - 1], 0, out, offset, count);
    }

    /**
     * Backward pass after {@link #forward}: accumulates into zeroed gradients, scaled by
     * {@code 1 / batchRows} (mean over the whole mini-batch). {@code wt[l]} is w[l] transposed.
     */
    void backward(float[][] wt, RowLoss loss, int batchRows) {
        for (int l = 0; l < layers; l++) {
            Arrays.fill(gradW[l], 0f);
            Arrays.fill(gradB[l], 0f);
        }
        float scale = 1f / batchRows;
        double sum = 0;
        float[] top = delta[layers - 1];
        for (int k = 0; k < rows; k++) {
            double z = pre[layers - 1][k];
            sum += loss.loss(sourceRow[k], z);
            top[k] = (float) loss.gradient(sourceRow[k], z) * scale;
        }
        lossSum = sum;
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l];
            int out = widths[l + 1];
            float[] dl = delta[l];
            float[] gb = gradB[l];
            for (int k = 0; k < rows; k++) {
                int off = k * out;
                for (int o = 0; o < out; o++) {
                    gb[o] += dl[off + o];
                }
            }
            DenseKernels.gemmTransposeAccumulate(act[l], rows, in, dl, out, gradW[l]);
            if (l > 0) {
                float[] prev = delta[l - 1];
                Arrays.fill(prev, 0, rows * in, 0f);
                backInput(dl, out, wt[l], in, in, prev, in);
                float[] z = pre[l - 1];
                int n = rows * in;
                for (int j = 0; j < n; j++) {
                    if (z[j] <= 0f) {
                        prev[j] = 0f;
                    }
                }
            } else if (embeddedWidth > 0) {
                Arrays.fill(gradEmbedded, 0, rows * embeddedWidth, 0f);
                backInput(dl, out, wt[0], in, embeddedWidth, gradEmbedded, embeddedWidth);
            }
        }
    }

    /** dst[k, 0..n) += Σ_o d[k, o] · wt[o, 0..n) (wt row-major [out][in]). */
    private void backInput(float[] d, int out, float[] wt, int in, int n, float[] dst, int dstWidth) {
        for (int k = 0; k < rows; k++) {
            int dOff = k * out;
            int yOff = k * dstWidth;
            for (int o = 0; o < out; o++) {
                float dv = d[dOff + o];
                if (dv != 0f) {
                    DenseKernels.axpy(dv, wt, o * in, dst, yOff, n);
                }
            }
        }
    }

    int embeddedWidth() {
        return embeddedWidth;
    }
}
