package ai.distill.optimizer.train;

import java.util.Arrays;

/**
 * Activations and gradients of one shard of a mini-batch: forward and backward pass over up to
 * {@code capacity} rows, stored as arrays of rows so the kernels vectorise. One workspace per
 * worker task; never shared between threads at once.
 */
final class ShardWorkspace {

  private final int capacity;
  private final int layers;
  private final int[] widths;
  private final int embeddedWidth;

  /** act[l][k]: input of layer l for shard row k. */
  private final float[][][] act;

  /** pre[l][k]: output of layer l before ReLU. */
  private final float[][][] pre;

  /** delta[l][k]: d loss / d pre[l][k]. */
  private final float[][][] delta;

  /** gradW[l][i]: d loss / d W_l[i, :]. */
  final float[][][] gradW;

  final float[][] gradB;

  /** d loss / d embedded part of act[0][k]. */
  final float[][] gradEmbedded;

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
    act = new float[layers][][];
    pre = new float[layers][][];
    delta = new float[layers][][];
    gradW = new float[layers][][];
    gradB = new float[layers][];
    for (int l = 0; l < layers; l++) {
      act[l] = new float[capacity][widths[l]];
      pre[l] = new float[capacity][widths[l + 1]];
      delta[l] = new float[capacity][widths[l + 1]];
      gradW[l] = new float[widths[l]][widths[l + 1]];
      gradB[l] = new float[widths[l + 1]];
    }
    gradEmbedded = new float[capacity][embeddedWidth];
    sourceRow = new int[capacity];
    observedLo = new float[layers];
    observedHi = new float[layers];
  }

  /**
   * Forward pass over {@code count} rows: {@code order[start + k]} (or {@code start + k} when order
   * is null), with weights given as rows {@code w[l][i] = W_l[i, :]}. With {@code ranges} non-null,
   * activations are observed and, once ranges are known, fake-quantized.
   */
  void forward(
      StudentNet net,
      float[][][] w,
      TrainingSet data,
      int[] order,
      int start,
      int count,
      ActivationRanges ranges) {
    if (count > capacity) {
      throw new IllegalStateException("shard rows " + count + " > capacity " + capacity);
    }
    rows = count;
    int columns = net.columns();
    int d = net.embeddingDim();
    int denseWidth = net.denseWidth();
    float[] emb = net.embedding;
    long[] ids = data.ids();
    float[] dense = data.dense();
    for (int k = 0; k < count; k++) {
      int src = order == null ? start + k : order[start + k];
      sourceRow[k] = src;
      float[] x0 = act[0][k];
      for (int c = 0; c < columns; c++) {
        int row = net.tableRow(c, ids[src * columns + c]);
        System.arraycopy(emb, row * d, x0, c * d, d);
      }
      int ds = src * denseWidth;
      for (int f = 0; f < denseWidth; f++) {
        x0[embeddedWidth + f] = (dense[ds + f] - net.denseShiftOf(f)) * net.denseScaleOf(f);
      }
    }
    quantize(0, ranges);
    for (int l = 0; l < layers; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      float[][] y = pre[l];
      float[] b = net.biases[l];
      for (int k = 0; k < count; k++) {
        System.arraycopy(b, 0, y[k], 0, out);
      }
      DenseKernels.gemmAccumulate(act[l], count, in, w[l], out, y);
      if (l + 1 < layers) {
        float[][] a = act[l + 1];
        for (int k = 0; k < count; k++) {
          float[] yk = y[k];
          float[] ak = a[k];
          for (int j = 0; j < out; j++) {
            ak[j] = Math.max(yk[j], 0f);
          }
        }
        quantize(l + 1, ranges);
      }
    }
  }

  private void quantize(int l, ActivationRanges ranges) {
    if (ranges == null) {
      return;
    }
    int n = widths[l];
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int k = 0; k < rows; k++) {
      float[] a = act[l][k];
      for (int j = 0; j < n; j++) {
        lo = Math.min(lo, a[j]);
        hi = Math.max(hi, a[j]);
      }
    }
    observedLo[l] = lo;
    observedHi[l] = hi;
    if (ranges.ready()) {
      for (int k = 0; k < rows; k++) {
        FakeQuant.activations(act[l][k], n, ranges.lo(l), ranges.hi(l));
      }
    }
  }

  /** The logit of shard row k after {@link #forward}. */
  float logit(int k) {
    return pre[layers - 1][k][0];
  }

  void copyLogits(float[] out, int offset, int count) {
    for (int k = 0; k < count; k++) {
      out[offset + k] = pre[layers - 1][k][0];
    }
  }

  /**
   * Backward pass after {@link #forward}: overwrites the gradients, scaled by {@code 1 / batchRows}
   * (mean over the whole mini-batch). {@code wt[l][o]} is row o of W_lᵀ.
   */
  void backward(float[][][] wt, RowLoss loss, int batchRows) {
    for (int l = 0; l < layers; l++) {
      for (float[] g : gradW[l]) {
        Arrays.fill(g, 0f);
      }
      Arrays.fill(gradB[l], 0f);
    }
    float scale = 1f / batchRows;
    double sum = 0;
    float[][] top = delta[layers - 1];
    for (int k = 0; k < rows; k++) {
      double z = pre[layers - 1][k][0];
      sum += loss.loss(sourceRow[k], z);
      top[k][0] = (float) loss.gradient(sourceRow[k], z) * scale;
    }
    lossSum = sum;
    for (int l = layers - 1; l >= 0; l--) {
      int in = widths[l];
      int out = widths[l + 1];
      float[][] dl = delta[l];
      float[] gb = gradB[l];
      for (int k = 0; k < rows; k++) {
        DenseKernels.add(dl[k], gb, out);
      }
      DenseKernels.gemmTransposeAccumulate(act[l], rows, in, dl, out, gradW[l]);
      if (l > 0) {
        float[][] prev = delta[l - 1];
        float[][] z = pre[l - 1];
        for (int k = 0; k < rows; k++) {
          float[] pk = prev[k];
          Arrays.fill(pk, 0f);
          DenseKernels.combine(dl[k], out, wt[l], in, pk);
          float[] zk = z[k];
          for (int j = 0; j < in; j++) {
            if (zk[j] <= 0f) {
              pk[j] = 0f;
            }
          }
        }
      } else if (embeddedWidth > 0) {
        for (int k = 0; k < rows; k++) {
          float[] gk = gradEmbedded[k];
          Arrays.fill(gk, 0f);
          DenseKernels.combine(dl[k], out, wt[0], embeddedWidth, gk);
        }
      }
    }
  }

  int embeddedWidth() {
    return embeddedWidth;
  }
}
