package ai.distill.optimizer.train;

import java.util.Random;

/**
 * The student: one embedding table per categorical column (power-of-two rows, stored back to back
 * in one array), standardised dense features, concatenated, then an MLP with ReLU and one output
 * logit. Weights are row-major [in][out]. Not thread-safe for writes; {@link #logits} may run
 * concurrently with other reads.
 */
public final class StudentNet {

  private final int columns;
  private final int[] vocabulary;
  private final int[] tableOffset;
  private final int embeddingDim;
  final float[] embedding;
  private final int denseWidth;
  private final float[] denseShift;
  private final float[] denseScale;
  private final int[] widths;
  final float[][] weights;
  final float[][] biases;

  private StudentNet(
      int[] vocabulary,
      int embeddingDim,
      float[] embedding,
      float[] denseShift,
      float[] denseScale,
      int[] widths,
      float[][] weights,
      float[][] biases) {
    this.columns = vocabulary.length;
    this.vocabulary = vocabulary;
    this.tableOffset = new int[columns + 1];
    for (int c = 0; c < columns; c++) {
      tableOffset[c + 1] = tableOffset[c] + vocabulary[c];
    }
    this.embeddingDim = embeddingDim;
    this.embedding = embedding;
    this.denseWidth = denseShift.length;
    this.denseShift = denseShift;
    this.denseScale = denseScale;
    this.widths = widths;
    this.weights = weights;
    this.biases = biases;
  }

  /**
   * A freshly initialised student: embeddings N(0, 0.05²), He-uniform weights, zero biases (output
   * bias = logit of {@code meanTarget} when that is a probability).
   */
  public static StudentNet initialize(
      int[] vocabulary,
      float[] denseShift,
      float[] denseScale,
      StudentConfig config,
      double meanTarget,
      Random random) {
    int d = config.embeddingDim();
    long tableRows = 0;
    for (int v : vocabulary) {
      if (v < 1 || Integer.bitCount(v) != 1) {
        throw new IllegalArgumentException(
            "vocabulary : " + v + " (expected: a power of two >= 1)");
      }
      tableRows += v;
    }
    if (tableRows * d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "embedding tables : "
              + tableRows
              + " rows x "
              + d
              + " (expected: < 2^31 floats; lower --max-vocabulary or --embedding-dim)");
    }
    float[] embedding = new float[(int) (tableRows * d)];
    for (int i = 0; i < embedding.length; i++) {
      embedding[i] = (float) (random.nextGaussian() * 0.05);
    }
    int[] hidden = config.hidden();
    int[] widths = new int[hidden.length + 2];
    widths[0] = vocabulary.length * d + denseShift.length;
    System.arraycopy(hidden, 0, widths, 1, hidden.length);
    widths[widths.length - 1] = 1;
    int layers = widths.length - 1;
    float[][] w = new float[layers][];
    float[][] b = new float[layers][];
    for (int l = 0; l < layers; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      double bound = Math.sqrt((l == layers - 1 ? 3.0 : 6.0) / in);
      w[l] = new float[in * out];
      for (int i = 0; i < w[l].length; i++) {
        w[l][i] = (float) ((random.nextDouble() * 2 - 1) * bound);
      }
      b[l] = new float[out];
    }
    if (meanTarget > 1e-6 && meanTarget < 1 - 1e-6) {
      b[layers - 1][0] = (float) Math.log(meanTarget / (1 - meanTarget));
    }
    return new StudentNet(
        vocabulary.clone(), d, embedding, denseShift.clone(), denseScale.clone(), widths, w, b);
  }

  /** A deep copy (used to keep the best weights while training continues). */
  public StudentNet copy() {
    float[][] w = new float[weights.length][];
    float[][] b = new float[biases.length][];
    for (int l = 0; l < weights.length; l++) {
      w[l] = weights[l].clone();
      b[l] = biases[l].clone();
    }
    return new StudentNet(
        vocabulary, embeddingDim, embedding.clone(), denseShift, denseScale, widths, w, b);
  }

  /**
   * The table row of id {@code id} in column {@code c}: ids outside [0, vocabulary) are hashed by
   * their low bits ({@code id & (vocabulary - 1)}, which is floor-mod for a power-of-two
   * vocabulary).
   */
  public int tableRow(int c, long id) {
    return tableOffset[c] + (int) (id & (vocabulary[c] - 1));
  }

  /**
   * The student's logits for every row of {@code data} (float, exactly the exported graph's
   * arithmetic order aside).
   */
  public float[] logits(TrainingSet data) {
    checkShape(data);
    float[] out = new float[data.rows()];
    int batch = 256;
    ShardWorkspace ws = new ShardWorkspace(this, Math.min(batch, Math.max(1, data.rows())));
    float[][][] w = new float[weights.length][][];
    for (int l = 0; l < weights.length; l++) {
      w[l] = new float[widths[l]][widths[l + 1]];
      DenseKernels.toRows(weights[l], widths[l], widths[l + 1], w[l]);
    }
    for (int start = 0; start < data.rows(); start += batch) {
      int count = Math.min(batch, data.rows() - start);
      ws.forward(this, w, data, null, start, count, null);
      ws.copyLogits(out, start, count);
    }
    return out;
  }

  /** The student's probabilities σ(logit) for every row of {@code data}. */
  public float[] probabilities(TrainingSet data) {
    float[] z = logits(data);
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) (1 / (1 + Math.exp(-z[i])));
    }
    return z;
  }

  void checkShape(TrainingSet data) {
    if (data.columns() != columns || data.denseWidth() != denseWidth) {
      throw new IllegalArgumentException(
          "rows have "
              + data.columns()
              + " categorical and "
              + data.denseWidth()
              + " dense features (expected: "
              + columns
              + " and "
              + denseWidth
              + ")");
    }
  }

  /** Multiply-accumulates per row (MLP; gathers and element-wise ops not counted). */
  public long macsPerRow() {
    long macs = 0;
    for (int l = 0; l + 1 < widths.length; l++) {
      macs += (long) widths[l] * widths[l + 1];
    }
    return macs;
  }

  /** Trainable parameters (embedding tables, weights, biases). */
  public long parameterCount() {
    long p = embedding.length;
    for (int l = 0; l < weights.length; l++) {
      p += weights[l].length + biases[l].length;
    }
    return p;
  }

  public int columns() {
    return columns;
  }

  public int[] vocabulary() {
    return vocabulary.clone();
  }

  public int embeddingDim() {
    return embeddingDim;
  }

  public int denseWidth() {
    return denseWidth;
  }

  /** Layer widths: input, hidden..., 1. */
  public int[] widths() {
    return widths.clone();
  }

  public int layers() {
    return weights.length;
  }

  /** All embedding tables, back to back: [Σ vocabulary][embeddingDim], row-major (a copy). */
  public float[] embeddingTables() {
    return embedding.clone();
  }

  /** The first table row of each column (a copy). */
  public int[] tableOffsets() {
    return java.util.Arrays.copyOf(tableOffset, columns);
  }

  public float[] denseShift() {
    return denseShift.clone();
  }

  public float[] denseScale() {
    return denseScale.clone();
  }

  /** Layer l's weights, row-major [in][out] (a copy). */
  public float[] weights(int l) {
    return weights[l].clone();
  }

  /** Layer l's bias [out] (a copy). */
  public float[] bias(int l) {
    return biases[l].clone();
  }

  int tableOffset(int c) {
    return tableOffset[c];
  }

  int vocabularyOf(int c) {
    return vocabulary[c];
  }

  float denseShiftOf(int f) {
    return denseShift[f];
  }

  float denseScaleOf(int f) {
    return denseScale[f];
  }

  int width(int l) {
    return widths[l];
  }
}
