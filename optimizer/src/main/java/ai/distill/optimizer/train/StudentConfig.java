package ai.distill.optimizer.train;

import java.util.Arrays;

/**
 * Hyper-parameters of a student network and of its training run. Immutable; build with {@link
 * #defaults()} and the {@code with…} methods, which fail fast on out-of-range values.
 *
 * <pre>{@code
 * StudentConfig config = StudentConfig.defaults().withHidden(128, 64).withEmbeddingDim(8).withEpochs(4);
 * }</pre>
 *
 * @param embeddingDim width of every embedding table
 * @param hidden hidden layer widths (ReLU); the output layer (one logit) is implicit
 * @param learningRate Adam step size
 * @param batchSize mini-batch rows
 * @param epochs maximum passes over the training rows
 * @param patience epochs without held-out improvement before stopping early
 * @param seed seeds initialisation and shuffling; same seed and data → same weights
 * @param threads worker threads for mini-batch shards (results do not depend on it)
 * @param maxVocabulary cap on one embedding table's rows; larger ids are hashed into the table
 * @param fakeQuant train with int8 fake quantization (straight-through estimator)
 */
public record StudentConfig(
    int embeddingDim,
    int[] hidden,
    double learningRate,
    int batchSize,
    int epochs,
    int patience,
    long seed,
    int threads,
    int maxVocabulary,
    boolean fakeQuant) {

  public StudentConfig {
    hidden = hidden.clone();
    check(embeddingDim >= 1 && embeddingDim <= 1024, "embeddingDim", embeddingDim, "1..1024");
    for (int h : hidden) {
      check(h >= 1 && h <= 65536, "hidden", Arrays.toString(hidden), "each 1..65536");
    }
    check(learningRate > 0 && learningRate < 10, "learningRate", learningRate, "> 0 and < 10");
    check(batchSize >= 1 && batchSize <= 1 << 16, "batchSize", batchSize, "1..65536");
    check(epochs >= 1 && epochs <= 10_000, "epochs", epochs, "1..10000");
    check(patience >= 0, "patience", patience, ">= 0");
    check(threads >= 1 && threads <= 256, "threads", threads, "1..256");
    check(maxVocabulary >= 1, "maxVocabulary", maxVocabulary, ">= 1");
  }

  /**
   * Defaults: 8-dim embeddings, 128-64 MLP, Adam 2e-3, batch 256, 4 epochs, patience 1, seed 42.
   */
  public static StudentConfig defaults() {
    return new StudentConfig(
        8,
        new int[] {128, 64},
        2e-3,
        256,
        4,
        1,
        42L,
        Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
        1 << 20,
        false);
  }

  @Override
  public int[] hidden() {
    return hidden.clone();
  }

  public StudentConfig withEmbeddingDim(int v) {
    return new StudentConfig(
        v,
        hidden,
        learningRate,
        batchSize,
        epochs,
        patience,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withHidden(int... v) {
    return new StudentConfig(
        embeddingDim,
        v,
        learningRate,
        batchSize,
        epochs,
        patience,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withLearningRate(double v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        v,
        batchSize,
        epochs,
        patience,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withBatchSize(int v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        v,
        epochs,
        patience,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withEpochs(int v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        v,
        patience,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withPatience(int v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        epochs,
        v,
        seed,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withSeed(long v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        epochs,
        patience,
        v,
        threads,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withThreads(int v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        epochs,
        patience,
        seed,
        v,
        maxVocabulary,
        fakeQuant);
  }

  public StudentConfig withMaxVocabulary(int v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        epochs,
        patience,
        seed,
        threads,
        v,
        fakeQuant);
  }

  public StudentConfig withFakeQuant(boolean v) {
    return new StudentConfig(
        embeddingDim,
        hidden,
        learningRate,
        batchSize,
        epochs,
        patience,
        seed,
        threads,
        maxVocabulary,
        v);
  }

  private static void check(boolean ok, String name, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(name + " : " + value + " (expected: " + expected + ")");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StudentConfig c
        && embeddingDim == c.embeddingDim
        && Arrays.equals(hidden, c.hidden)
        && learningRate == c.learningRate
        && batchSize == c.batchSize
        && epochs == c.epochs
        && patience == c.patience
        && seed == c.seed
        && threads == c.threads
        && maxVocabulary == c.maxVocabulary
        && fakeQuant == c.fakeQuant;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(hidden) * 31 + Long.hashCode(seed);
  }

  @Override
  public String toString() {
    return "StudentConfig[embeddingDim="
        + embeddingDim
        + ", hidden="
        + Arrays.toString(hidden)
        + ", learningRate="
        + learningRate
        + ", batchSize="
        + batchSize
        + ", epochs="
        + epochs
        + ", patience="
        + patience
        + ", seed="
        + seed
        + ", threads="
        + threads
        + ", maxVocabulary="
        + maxVocabulary
        + ", fakeQuant="
        + fakeQuant
        + "]";
  }
}
