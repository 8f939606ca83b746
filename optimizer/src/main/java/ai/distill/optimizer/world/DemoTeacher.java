package ai.distill.optimizer.world;

import ai.distill.optimizer.distill.DistillationLoss;
import ai.distill.optimizer.distill.StudentExporter;
import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.train.DataSplit;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.optimizer.train.TrainResult;
import ai.distill.optimizer.train.Trainer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trains the demo teacher on labelled rows of a {@link CtrWorld} with the same trainer students use
 * (a larger MLP, plain binary cross-entropy on clicks) and exports it to ONNX ({@code dense},
 * {@code sparse} → {@code prob} [N, 1]). Stateless.
 */
public final class DemoTeacher {

  /**
   * A trained teacher.
   *
   * @param model ONNX bytes
   * @param metrics evaluation on fresh rows of the world (auc, logloss, mean_prediction, bayes_auc,
   *     ...)
   */
  public record Trained(byte[] model, Map<String, Object> metrics) {}

  private DemoTeacher() {}

  /**
   * The teacher's default architecture: 12-dim embeddings, 256-128 MLP, one epoch (a second one
   * overfits the embedding tables on a few hundred thousand rows).
   */
  public static StudentConfig defaultConfig(long seed) {
    return StudentConfig.defaults()
        .withEmbeddingDim(12)
        .withHidden(256, 128)
        .withEpochs(1)
        .withBatchSize(256)
        .withLearningRate(2e-3)
        .withSeed(seed);
  }

  /**
   * Trains on {@code rows} fresh labelled rows of {@code world}, evaluates on {@code evalRows}
   * more.
   */
  public static Trained train(
      CtrWorld world, int rows, int evalRows, StudentConfig config, Consumer<String> progress) {
    long t0 = System.nanoTime();
    RowTable all = world.table(rows, world.seed() + 1, null);
    double[] truth = new double[evalRows];
    RowTable eval = world.table(evalRows, world.seed() + 2, truth);
    progress.accept(
        String.format(
            Locale.ROOT,
            "world %d: %d training and %d evaluation rows in %.1f s",
            world.seed(),
            rows,
            evalRows,
            (System.nanoTime() - t0) / 1e9));
    DataSplit split =
        DataSplit.random(rows, Math.max(1, Math.min(20_000, rows / 20)), config.seed());
    RowTable train = all.select(split.train());
    RowTable held = all.select(split.heldOut());
    Trainer trainer = new Trainer(config);
    int[] heldY = toInts(held.labels());
    TrainResult result =
        trainer.train(
            CtrWorld.signature().trainingSet(train),
            DistillationLoss.labelsOnly(train.labels()),
            CtrWorld.signature().trainingSet(held),
            DistillationLoss.labelsOnly(held.labels()),
            e ->
                progress.accept(
                    String.format(
                        Locale.ROOT,
                        "teacher epoch %d: loss %.5f, held-out loss %.5f, held-out AUC %.4f, %.0f rows/s (%.1f s, %.1f CPU s)",
                        e.epoch(),
                        e.trainLoss(),
                        e.heldOutLoss(),
                        BinaryMetrics.auc(e.heldOutLogits(), heldY),
                        e.rowsPerSecond(),
                        e.seconds(),
                        e.cpuSeconds())));
    byte[] model =
        StudentExporter.export(
            result.student(),
            CtrWorld.signature(),
            "Demo CTR teacher trained by distill on CtrWorld(" + world.seed() + ")");
    float[] p = result.student().probabilities(CtrWorld.signature().trainingSet(eval));
    int[] y = toInts(eval.labels());
    float[] t = new float[truth.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) truth[i];
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", "world_teacher");
    m.put("world_seed", world.seed());
    m.put("eval_rows", evalRows);
    m.put("auc", BinaryMetrics.auc(p, y));
    m.put("logloss", BinaryMetrics.logloss(p, y));
    m.put("mean_prediction", BinaryMetrics.mean(p));
    m.put("bayes_auc", BinaryMetrics.auc(t, y));
    m.put("click_rate", Arrays.stream(y).average().orElse(Double.NaN));
    m.put("embedding_dim", config.embeddingDim());
    m.put("hidden", Arrays.toString(config.hidden()).replace(" ", ""));
    m.put("train_rows", train.rows());
    m.put("train_rows_per_second", Math.round(result.rowsPerSecond()));
    m.put("train_seconds", Math.round(result.trainSeconds() * 1000) / 1000.0);
    m.put("train_cpu_seconds", Math.round(result.cpuSeconds() * 1000) / 1000.0);
    m.put("params", result.student().parameterCount());
    progress.accept(
        String.format(
            Locale.ROOT,
            "teacher AUC %.4f on %d fresh rows (Bayes AUC %.4f), trained in %.1f s",
            (double) m.get("auc"),
            evalRows,
            (double) m.get("bayes_auc"),
            result.trainSeconds()));
    return new Trained(model, m);
  }

  private static int[] toInts(byte[] labels) {
    int[] y = new int[labels.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels[i];
    }
    return y;
  }
}
