package ai.distill.optimizer.world;

import ai.distill.optimizer.distill.TeacherSignature;
import ai.distill.optimizer.distill.ZipfSampler;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.rows.RowsWriter;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A seeded synthetic CTR world: 13 dense log-normal features (written as ln(1 + x), as CTR
 * pipelines do), 26 categorical fields with Zipf-distributed ids, and a hidden ground-truth click
 * probability made of per-id effects, dense effects with a non-linearity, pairwise field
 * interactions (factorisation-machine style latent vectors) and a dense × categorical slope. Rows
 * use the demo conventions: {@code dense} FLOAT [13], {@code sparse} INT64 [26], {@code label}.
 * Immutable after construction and thread-safe; pass each thread its own {@link Random}.
 *
 * <pre>{@code
 * CtrWorld world = new CtrWorld(7);
 * CtrWorld.Sample s = world.sampleRow(new Random(1));   // s.dense(), s.sparse(), s.clickProbability()
 * world.write(Path.of("rows.jsonl"), 100_000, 1);       // labelled rows
 * }</pre>
 */
public final class CtrWorld {

  /** Dense features per row. */
  public static final int DENSE = 13;

  /** Categorical fields per row. */
  public static final int FIELDS = 26;

  /** The seed of the world the demo uses. */
  public static final long DEMO_SEED = 2026L;

  private static final int LATENT = 4;
  private static final int PAIRS = 16;
  private static final int[] VOCABULARY_CYCLE = {
    1000, 200, 5000, 50, 2000, 100, 500, 3000, 20, 800
  };

  /**
   * One drawn row.
   *
   * @param dense the 13 dense features (already ln(1 + x))
   * @param sparse the 26 categorical ids
   * @param clickProbability the hidden true click probability
   */
  public record Sample(float[] dense, long[] sparse, double clickProbability) {}

  private final long seed;
  private final int[] vocabulary = new int[FIELDS];
  private final ZipfSampler[] idSampler = new ZipfSampler[FIELDS];
  private final float[][] idEffect = new float[FIELDS][];
  private final float[][] latent = new float[FIELDS][];
  private final int[][] pairs = new int[PAIRS][2];
  private final double[] pairWeight = new double[PAIRS];
  private final double[] denseMu = new double[DENSE];
  private final double[] denseSigma = new double[DENSE];
  private final double[] denseCenter = new double[DENSE];
  private final double[] denseScale = new double[DENSE];
  private final double[] denseWeight = new double[DENSE];
  private final float[] slope;
  private final double bias;

  /** Builds the hidden world from a seed (the same seed always gives the same world). */
  public CtrWorld(long seed) {
    this.seed = seed;
    Random r = new Random(seed);
    for (int f = 0; f < FIELDS; f++) {
      vocabulary[f] = VOCABULARY_CYCLE[f % VOCABULARY_CYCLE.length];
      idSampler[f] = ZipfSampler.bounded(1.05 + 0.35 * r.nextDouble(), vocabulary[f]);
      double sigma = 0.08 + 0.22 * r.nextDouble();
      idEffect[f] = new float[vocabulary[f]];
      latent[f] = new float[vocabulary[f] * LATENT];
      for (int i = 0; i < vocabulary[f]; i++) {
        idEffect[f][i] = (float) (r.nextGaussian() * sigma);
      }
      for (int i = 0; i < latent[f].length; i++) {
        latent[f][i] = (float) (r.nextGaussian() * 0.4);
      }
    }
    for (int p = 0; p < PAIRS; p++) {
      int a = r.nextInt(FIELDS);
      int b = (a + 1 + r.nextInt(FIELDS - 1)) % FIELDS;
      pairs[p][0] = a;
      pairs[p][1] = b;
      pairWeight[p] = (r.nextBoolean() ? 1 : -1) * (0.5 + 0.7 * r.nextDouble());
    }
    for (int i = 0; i < DENSE; i++) {
      denseMu[i] = 2.0 * r.nextDouble();
      denseSigma[i] = 0.5 + r.nextDouble();
      // ln(1 + X) has roughly mean mu and spread sigma for these ranges
      denseCenter[i] = Math.log1p(Math.exp(denseMu[i]));
      denseScale[i] = 1 / Math.max(0.3, denseSigma[i] * 0.8);
      denseWeight[i] = r.nextGaussian() * 0.35;
    }
    slope = new float[vocabulary[5]];
    for (int i = 0; i < slope.length; i++) {
      slope[i] = (float) (r.nextGaussian() * 0.4);
    }
    bias = calibrateBias(0.10);
  }

  /** The world the demo, its teacher and the load tests share. */
  public static CtrWorld demo() {
    return new CtrWorld(DEMO_SEED);
  }

  /** Draws one row (features and the hidden click probability). */
  public Sample sampleRow(Random random) {
    return sampleRow(random, 0);
  }

  /**
   * Draws one row from a shifted population: every dense feature's latent normal moves by {@code
   * denseShift} standard deviations (a covariate shift: who shows up changes, how they click does
   * not).
   */
  public Sample sampleRow(Random random, double denseShift) {
    float[] dense = new float[DENSE];
    long[] sparse = new long[FIELDS];
    for (int i = 0; i < DENSE; i++) {
      dense[i] =
          (float)
              Math.log1p(
                  Math.exp(denseMu[i] + denseSigma[i] * (denseShift + random.nextGaussian())));
    }
    for (int f = 0; f < FIELDS; f++) {
      sparse[f] = idSampler[f].sample(random) - 1;
    }
    return new Sample(dense, sparse, clickProbability(dense, sparse));
  }

  /**
   * The hidden click probability of a row (ids outside a field's vocabulary are folded into it).
   */
  public double clickProbability(float[] dense, long[] sparse) {
    return 1 / (1 + Math.exp(-(bias + score(dense, sparse))));
  }

  /** Draws a click for a row: 1 with its click probability. */
  public int click(Sample sample, Random random) {
    return random.nextDouble() < sample.clickProbability() ? 1 : 0;
  }

  private double score(float[] dense, long[] sparse) {
    if (dense.length != DENSE || sparse.length != FIELDS) {
      throw new IllegalArgumentException(
          "row has "
              + dense.length
              + " dense and "
              + sparse.length
              + " sparse values (expected: "
              + DENSE
              + " and "
              + FIELDS
              + ")");
    }
    int[] id = new int[FIELDS];
    double s = 0;
    for (int f = 0; f < FIELDS; f++) {
      id[f] = (int) Math.floorMod(sparse[f], (long) vocabulary[f]);
      s += idEffect[f][id[f]];
    }
    for (int p = 0; p < PAIRS; p++) {
      int a = pairs[p][0];
      int b = pairs[p][1];
      double dot = 0;
      for (int k = 0; k < LATENT; k++) {
        dot += latent[a][id[a] * LATENT + k] * latent[b][id[b] * LATENT + k];
      }
      s += pairWeight[p] * dot;
    }
    double[] z = new double[DENSE];
    for (int i = 0; i < DENSE; i++) {
      z[i] = (dense[i] - denseCenter[i]) * denseScale[i];
      s += denseWeight[i] * z[i];
    }
    s += 0.6 * Math.max(0, z[0]) * z[3] - 0.4 * z[1] * z[1] + 0.3 * Math.tanh(2 * z[2]);
    s += slope[id[5]] * z[4];
    return s;
  }

  private double calibrateBias(double targetRate) {
    Random r = new Random(seed ^ 0xC0FFEEL);
    int n = 20_000;
    double[] scores = new double[n];
    for (int k = 0; k < n; k++) {
      float[] dense = new float[DENSE];
      long[] sparse = new long[FIELDS];
      for (int i = 0; i < DENSE; i++) {
        dense[i] = (float) Math.log1p(Math.exp(denseMu[i] + denseSigma[i] * r.nextGaussian()));
      }
      for (int f = 0; f < FIELDS; f++) {
        sparse[f] = idSampler[f].sample(r) - 1;
      }
      scores[k] = score(dense, sparse);
    }
    double lo = -15;
    double hi = 15;
    for (int it = 0; it < 60; it++) {
      double mid = (lo + hi) / 2;
      double mean = 0;
      for (double s : scores) {
        mean += 1 / (1 + Math.exp(-(mid + s)));
      }
      if (mean / n < targetRate) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /**
   * Writes {@code rows} labelled rows (inputs {@code dense}, {@code sparse}; {@code label}) drawn
   * with {@code rowSeed}.
   */
  public void write(Path file, int rows, long rowSeed) {
    Random random = new Random(rowSeed);
    try (RowsWriter w = RowsWriter.create(file)) {
      for (int i = 0; i < rows; i++) {
        Sample s = sampleRow(random);
        w.write(Map.of("dense", s.dense(), "sparse", s.sparse()), click(s, random), null);
      }
    }
  }

  /** Writes rows of the world with seed {@code seed}, drawing rows with the same seed. */
  public static void writeRows(Path file, int rows, long seed) {
    new CtrWorld(seed).write(file, rows, seed);
  }

  /**
   * {@code rows} labelled rows as a table for {@link #signature()}; when {@code truth} is non-null
   * it receives each row's true click probability.
   */
  public RowTable table(int rows, long rowSeed, double[] truth) {
    Random random = new Random(rowSeed);
    float[] dense = new float[rows * DENSE];
    long[] sparse = new long[rows * FIELDS];
    byte[] labels = new byte[rows];
    for (int i = 0; i < rows; i++) {
      Sample s = sampleRow(random);
      System.arraycopy(s.dense(), 0, dense, i * DENSE, DENSE);
      System.arraycopy(s.sparse(), 0, sparse, i * FIELDS, FIELDS);
      labels[i] = (byte) click(s, random);
      if (truth != null) {
        truth[i] = s.clickProbability();
      }
    }
    return RowTable.of(signature().columns(), rows, new Object[] {dense, sparse}, labels);
  }

  /**
   * The demo signature: {@code dense} FLOAT [N, 13], {@code sparse} INT64 [N, 26] → {@code prob}
   * FLOAT [N, 1].
   */
  public static TeacherSignature signature() {
    return TeacherSignature.of(
        List.of(
            OnnxModel.valueInfo("dense", DataType.FLOAT, -1, DENSE),
            OnnxModel.valueInfo("sparse", DataType.INT64, -1, FIELDS)),
        List.of(OnnxModel.valueInfo("prob", DataType.FLOAT, -1, 1)));
  }

  /** Vocabulary size of each field (ids are 0 … size − 1). */
  public int[] vocabulary() {
    return vocabulary.clone();
  }

  public long seed() {
    return seed;
  }
}
