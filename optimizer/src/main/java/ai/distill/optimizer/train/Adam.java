package ai.distill.optimizer.train;

/**
 * Adam state for one student: dense updates for the MLP, lazy (sparse) updates for embedding rows
 * touched in a step. Used by the trainer thread only.
 */
final class Adam {

  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPS = 1e-8;
  private final double learningRate;
  private final float[][] mW;
  private final float[][] vW;
  private final float[][] mB;
  private final float[][] vB;
  private final float[] mE;
  private final float[] vE;
  private long step;
  private float stepSize;
  private float secondCorrection;

  Adam(StudentNet net, double learningRate) {
    this.learningRate = learningRate;
    int layers = net.layers();
    mW = new float[layers][];
    vW = new float[layers][];
    mB = new float[layers][];
    vB = new float[layers][];
    for (int l = 0; l < layers; l++) {
      mW[l] = new float[net.weights[l].length];
      vW[l] = new float[net.weights[l].length];
      mB[l] = new float[net.biases[l].length];
      vB[l] = new float[net.biases[l].length];
    }
    mE = new float[net.embedding.length];
    vE = new float[net.embedding.length];
  }

  /** Starts a step: advances the bias corrections. */
  void beginStep() {
    step++;
    double c1 = 1 - Math.pow(BETA1, step);
    double c2 = 1 - Math.pow(BETA2, step);
    stepSize = (float) (learningRate / c1);
    secondCorrection = (float) (1 / Math.sqrt(c2));
  }

  void updateLayer(StudentNet net, int l, float[][] gW, float[] gB) {
    int out = gB.length;
    for (int i = 0; i < gW.length; i++) {
      updateRow(net.weights[l], i * out, gW[i], mW[l], vW[l]);
    }
    update(net.biases[l], gB, mB[l], vB[l], 0, gB.length);
  }

  /** Adam on p[off..off+g.length) with gradient row g. */
  private void updateRow(float[] p, int off, float[] g, float[] m, float[] v) {
    float b1 = (float) BETA1;
    float b2 = (float) BETA2;
    float a = stepSize;
    float c2 = secondCorrection;
    float eps = (float) EPS;
    for (int j = 0; j < g.length; j++) {
      float gj = g[j];
      float mj = b1 * m[off + j] + (1 - b1) * gj;
      float vj = b2 * v[off + j] + (1 - b2) * gj * gj;
      m[off + j] = mj;
      v[off + j] = vj;
      p[off + j] -= a * mj / ((float) Math.sqrt(vj) * c2 + eps);
    }
  }

  /**
   * Lazy Adam on {@code n} embedding values from {@code off}; {@code g} is indexed like the table.
   */
  void updateEmbedding(StudentNet net, float[] g, int off, int n) {
    update(net.embedding, g, mE, vE, off, n);
  }

  private void update(float[] p, float[] g, float[] m, float[] v, int off, int n) {
    float b1 = (float) BETA1;
    float b2 = (float) BETA2;
    float a = stepSize;
    float c2 = secondCorrection;
    float eps = (float) EPS;
    for (int j = off; j < off + n; j++) {
      float gj = g[j];
      float mj = b1 * m[j] + (1 - b1) * gj;
      float vj = b2 * v[j] + (1 - b2) * gj * gj;
      m[j] = mj;
      v[j] = vj;
      p[j] -= a * mj / ((float) Math.sqrt(vj) * c2 + eps);
    }
  }
}
