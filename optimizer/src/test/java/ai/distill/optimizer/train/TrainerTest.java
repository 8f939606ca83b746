package ai.distill.optimizer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TrainerTest {

  /** Plain BCE on fixed labels. */
  private record Bce(byte[] y) implements RowLoss {
    @Override
    public double loss(int row, double z) {
      return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[row] * z;
    }

    @Override
    public double gradient(int row, double z) {
      return 1 / (1 + Math.exp(-z)) - y[row];
    }
  }

  private static TrainingSet randomSet(int rows, int columns, int vocab, int dense, long seed) {
    Random r = new Random(seed);
    long[] ids = new long[rows * columns];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(vocab);
    }
    float[] d = new float[rows * dense];
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) r.nextGaussian();
    }
    return new TrainingSet(rows, columns, ids, dense, d);
  }

  /** Labels from a hidden rule so that training has something to learn. */
  private static byte[] labels(TrainingSet s, long seed) {
    Random r = new Random(seed);
    byte[] y = new byte[s.rows()];
    for (int i = 0; i < s.rows(); i++) {
      double z =
          (s.ids()[i * s.columns()] % 3 == 0 ? 1.5 : -1.0)
              + s.dense()[i * s.denseWidth()]
              - (s.ids()[i * s.columns() + 1] == s.ids()[i * s.columns() + 2] ? 2 : 0);
      y[i] = (byte) (r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    }
    return y;
  }

  private static double meanLoss(StudentNet net, TrainingSet data, RowLoss loss) {
    float[] z = net.logits(data);
    double sum = 0;
    for (int i = 0; i < z.length; i++) {
      sum += loss.loss(i, z[i]);
    }
    return sum / z.length;
  }

  @Test
  void gradients_match_finite_differences_for_embeddings_weights_and_biases() {
    TrainingSet data = randomSet(8, 3, 5, 2, 1);
    RowLoss loss = new Bce(labels(data, 2));
    StudentConfig config = StudentConfig.defaults().withEmbeddingDim(3).withHidden(6, 4);
    float[][] st = data.denseStandardization();
    StudentNet net =
        StudentNet.initialize(
            data.vocabulary(100), st[0], st[1], config, Double.NaN, new Random(3));
    // larger embeddings so their gradients are well above float noise
    for (int i = 0; i < net.embedding.length; i++) {
      net.embedding[i] *= 10;
    }
    ShardWorkspace ws = new ShardWorkspace(net, 8);
    float[][][] w = new float[net.layers()][][];
    float[][][] wt = new float[net.layers()][][];
    for (int l = 0; l < net.layers(); l++) {
      w[l] = new float[net.width(l)][net.width(l + 1)];
      wt[l] = new float[net.width(l + 1)][net.width(l)];
      DenseKernels.toRows(net.weights[l], net.width(l), net.width(l + 1), w[l]);
      DenseKernels.transposeToRows(net.weights[l], net.width(l), net.width(l + 1), wt[l]);
    }
    ws.forward(net, w, data, null, 0, 8, null);
    ws.backward(wt, loss, 8);

    double h = 1e-3;
    int checked = 0;
    for (int l = 0; l < net.layers(); l++) {
      for (int j = 0; j < net.weights[l].length; j += 3) {
        int out = net.width(l + 1);
        checked +=
            assertGradient(
                ws.gradW[l][j / out][j % out],
                net.weights[l],
                j,
                h,
                () -> meanLoss(net, data, loss),
                "W" + l + "[" + j + "]");
      }
      for (int j = 0; j < net.biases[l].length; j++) {
        checked +=
            assertGradient(
                ws.gradB[l][j],
                net.biases[l],
                j,
                h,
                () -> meanLoss(net, data, loss),
                "b" + l + "[" + j + "]");
      }
    }
    int d = net.embeddingDim();
    float[] embGrad = new float[net.embedding.length];
    for (int k = 0; k < 8; k++) {
      for (int c = 0; c < data.columns(); c++) {
        int row = net.tableRow(c, data.ids()[k * data.columns() + c]);
        for (int j = 0; j < d; j++) {
          embGrad[row * d + j] += ws.gradEmbedded[k][c * d + j];
        }
      }
    }
    for (int j = 0; j < net.embedding.length; j++) {
      checked +=
          assertGradient(
              embGrad[j], net.embedding, j, h, () -> meanLoss(net, data, loss), "E[" + j + "]");
    }
    assertTrue(checked > 60, "checked " + checked + " (the rest sat on ReLU kinks)");
  }

  /**
   * Central difference; a ReLU kink inside [−h, h] (one-sided slopes disagree) is skipped. Returns
   * 1 if checked.
   */
  private static int assertGradient(
      double analytic,
      float[] param,
      int j,
      double h,
      java.util.function.DoubleSupplier f,
      String what) {
    float saved = param[j];
    double mid = f.getAsDouble();
    param[j] = (float) (saved + h);
    double plus = f.getAsDouble();
    param[j] = (float) (saved - h);
    double minus = f.getAsDouble();
    param[j] = saved;
    double forward = (plus - mid) / h;
    double backward = (mid - minus) / h;
    double tolerance = 2e-4 + 2e-2 * Math.abs(forward + backward) / 2;
    if (Math.abs(forward - backward) > tolerance) {
      return 0;
    }
    assertEquals((plus - minus) / (2 * h), analytic, tolerance, what);
    return 1;
  }

  @Test
  void same_seed_gives_identical_weights_whatever_the_thread_count() {
    TrainingSet data = randomSet(3000, 4, 50, 3, 5);
    RowLoss loss = new Bce(labels(data, 6));
    StudentConfig config =
        StudentConfig.defaults().withHidden(16, 8).withEpochs(2).withBatchSize(200).withSeed(9);
    StudentNet a =
        new Trainer(config.withThreads(1)).train(data, loss, null, null, r -> {}).student();
    StudentNet b =
        new Trainer(config.withThreads(3)).train(data, loss, null, null, r -> {}).student();
    StudentNet c =
        new Trainer(config.withSeed(10).withThreads(1))
            .train(data, loss, null, null, r -> {})
            .student();
    assertArrayEquals(a.embeddingTables(), b.embeddingTables());
    for (int l = 0; l < a.layers(); l++) {
      assertArrayEquals(a.weights(l), b.weights(l));
      assertArrayEquals(a.bias(l), b.bias(l));
    }
    assertFalse(
        java.util.Arrays.equals(a.weights(0), c.weights(0)),
        "another seed must give other weights");
  }

  @Test
  void training_lowers_the_loss_and_reports_every_epoch() {
    TrainingSet all = randomSet(6000, 4, 50, 3, 7);
    byte[] y = labels(all, 8);
    TrainingSet train = all.slice(0, 5000);
    TrainingSet held = all.slice(5000, 6000);
    byte[] yTrain = java.util.Arrays.copyOfRange(y, 0, 5000);
    byte[] yHeld = java.util.Arrays.copyOfRange(y, 5000, 6000);
    List<EpochReport> reports = new ArrayList<>();
    StudentConfig config = StudentConfig.defaults().withHidden(16, 8).withEpochs(3).withPatience(5);
    TrainResult r =
        new Trainer(config).train(train, new Bce(yTrain), held, new Bce(yHeld), reports::add);
    assertEquals(3, reports.size());
    assertTrue(
        reports.get(2).heldOutLoss() < 0.62, "held-out loss " + reports.get(2).heldOutLoss());
    assertTrue(reports.get(2).trainLoss() < reports.get(0).trainLoss());
    assertEquals(15000, r.rowsTrained());
    assertEquals(1000, reports.get(0).heldOutLogits().length);
  }

  @Test
  void fake_quantized_training_still_learns() {
    TrainingSet all = randomSet(6000, 4, 50, 3, 7);
    byte[] y = labels(all, 8);
    StudentConfig config =
        StudentConfig.defaults().withHidden(16, 8).withEpochs(3).withFakeQuant(true);
    TrainResult r = new Trainer(config).train(all, new Bce(y), null, null, e -> {});
    assertTrue(meanLoss(r.student(), all, new Bce(y)) < 0.62);
  }

  @Test
  void weights_fake_quantize_to_127_levels_per_output_channel() {
    float[] w = {1f, 0.1f, -0.5f, 0.02f, 0.3f, 0.0f};
    float[] q = new float[6];
    FakeQuant.weightsPerChannel(w, 3, 2, q);
    assertEquals(1f, q[0], 1e-6);
    assertEquals(Math.rint(-0.5 * 127) / 127, q[2], 1e-6);
    assertEquals(0.1f, q[1], 1e-6);
    assertEquals(Math.rint(0.02 / (0.1 / 127)) * (0.1 / 127), q[3], 1e-6);
  }

  @Test
  void out_of_range_ids_are_hashed_into_the_table() {
    TrainingSet data = randomSet(10, 2, 4, 1, 1);
    float[][] st = data.denseStandardization();
    StudentNet net =
        StudentNet.initialize(
            new int[] {4, 4}, st[0], st[1], StudentConfig.defaults(), 0.5, new Random(1));
    assertEquals(net.tableRow(0, 1), net.tableRow(0, 5));
    assertEquals(net.tableRow(1, 3), net.tableRow(1, -1));
    assertEquals(4 + 2, net.tableRow(1, 1_000_000_002L));
  }

  @Test
  void bad_configuration_is_rejected_with_the_expected_range() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StudentConfig.defaults().withEmbeddingDim(0));
    assertEquals("embeddingDim : 0 (expected: 1..1024)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> StudentConfig.defaults().withHidden(8, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new TrainingSet(2, 2, new long[3], 0, new float[0]));
  }
}
