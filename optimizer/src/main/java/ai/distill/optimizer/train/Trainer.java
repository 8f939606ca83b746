package ai.distill.optimizer.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Mini-batch Adam training of a {@link StudentNet} on any {@link RowLoss}, with early stopping on
 * held-out rows. Each mini-batch is cut into fixed shards of {@value #SHARD_ROWS} rows that a small
 * thread pool runs in parallel; their gradients are summed in shard order, so the result depends on
 * the seed and the data but not on the thread count. Embedding rows are updated sparsely (only rows
 * a batch touched; lazy Adam). A trainer owns its pool only for the duration of {@link #train}.
 *
 * <pre>{@code
 * TrainResult r = new Trainer(StudentConfig.defaults()).train(rows, loss, heldOut, heldOutLoss, report -> {});
 * float[] p = r.student().probabilities(rows);
 * }</pre>
 */
public final class Trainer {

  static final int SHARD_ROWS = 64;
  private final StudentConfig config;

  public Trainer(StudentConfig config) {
    this.config = config;
  }

  /**
   * Trains a fresh student. {@code heldOut} may be null (then no early stopping; the last epoch's
   * weights are kept). The listener is called after every epoch on the calling thread.
   */
  public TrainResult train(
      TrainingSet train,
      RowLoss trainLoss,
      TrainingSet heldOut,
      RowLoss heldOutLoss,
      Consumer<EpochReport> listener) {
    if (train.rows() == 0) {
      throw new IllegalArgumentException("training rows : 0 (expected: > 0)");
    }
    Random random = new Random(config.seed());
    int[] vocabulary = train.vocabulary(config.maxVocabulary());
    float[][] standard = train.denseStandardization();
    StudentNet net =
        StudentNet.initialize(
            vocabulary, standard[0], standard[1], config, trainLoss.meanTarget(), random);
    return train(net, train, trainLoss, heldOut, heldOutLoss, listener, random);
  }

  private TrainResult train(
      StudentNet net,
      TrainingSet train,
      RowLoss loss,
      TrainingSet heldOut,
      RowLoss heldOutLoss,
      Consumer<EpochReport> listener,
      Random random) {
    net.checkShape(train);
    boolean validate = heldOut != null && heldOut.rows() > 0;
    if (validate) {
      net.checkShape(heldOut);
    }
    int batch = Math.min(config.batchSize(), train.rows());
    int shardRows = Math.min(SHARD_ROWS, batch);
    int shards = (batch + shardRows - 1) / shardRows;
    ShardWorkspace[] ws = new ShardWorkspace[shards];
    for (int s = 0; s < shards; s++) {
      ws[s] = new ShardWorkspace(net, shardRows);
    }
    int layers = net.layers();
    Adam adam = new Adam(net, config.learningRate());
    ActivationRanges ranges = config.fakeQuant() ? new ActivationRanges(layers) : null;
    float[][] wUse = new float[layers][];
    float[][][] wRows = new float[layers][][];
    float[][][] wt = new float[layers][][];
    for (int l = 0; l < layers; l++) {
      wUse[l] = config.fakeQuant() ? new float[net.weights[l].length] : net.weights[l];
      wRows[l] = new float[net.width(l)][net.width(l + 1)];
      wt[l] = new float[net.width(l + 1)][net.width(l)];
    }
    int d = net.embeddingDim();
    float[] embGrad = new float[net.embedding.length];
    boolean[] touched = new boolean[net.embedding.length / Math.max(1, d)];
    int[] touchedRows = new int[touched.length];

    int threads = Math.min(config.threads(), shards);
    ExecutorService pool =
        threads > 1 ? Executors.newFixedThreadPool(threads, daemonThreads()) : null;
    List<EpochReport> reports = new ArrayList<>();
    StudentNet best = null;
    int bestEpoch = 0;
    double bestLoss = Double.POSITIVE_INFINITY;
    int sinceBest = 0;
    long rowsTrained = 0;
    double trainSeconds = 0;
    double cpuSeconds = 0;
    boolean stoppedEarly = false;
    int[] order = new int[train.rows()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    try {
      for (int epoch = 1; epoch <= config.epochs(); epoch++) {
        shuffle(order, random);
        long t0 = System.nanoTime();
        long c0 = processCpuNanos();
        double lossSum = 0;
        for (int start = 0; start < order.length; start += batch) {
          int count = Math.min(batch, order.length - start);
          for (int l = 0; l < layers; l++) {
            if (ranges != null) {
              FakeQuant.weightsPerChannel(net.weights[l], net.width(l), net.width(l + 1), wUse[l]);
            }
            DenseKernels.toRows(wUse[l], net.width(l), net.width(l + 1), wRows[l]);
            DenseKernels.transposeToRows(wUse[l], net.width(l), net.width(l + 1), wt[l]);
          }
          int used = (count + shardRows - 1) / shardRows;
          runShards(
              pool, ws, used, shardRows, start, count, net, wRows, wt, train, order, loss, ranges);
          lossSum += step(net, adam, ws, used, embGrad, touched, touchedRows, train, d);
          if (ranges != null) {
            ranges.update(ws, used);
          }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (processCpuNanos() - c0) / 1e9;
        cpuSeconds += cpu;
        rowsTrained += order.length;
        trainSeconds += seconds;
        double heldLoss = Double.NaN;
        float[] heldLogits = new float[0];
        boolean improved = true;
        if (validate) {
          heldLogits = net.logits(heldOut);
          heldLoss = meanLoss(heldOutLoss, heldLogits);
          improved = heldLoss < bestLoss;
        }
        if (improved) {
          bestLoss = validate ? heldLoss : bestLoss;
          best = validate ? net.copy() : null;
          bestEpoch = epoch;
          sinceBest = 0;
        } else {
          sinceBest++;
        }
        EpochReport report =
            new EpochReport(
                epoch,
                lossSum / order.length,
                heldLoss,
                heldLogits,
                order.length / Math.max(seconds, 1e-9),
                seconds,
                cpu,
                improved,
                net);
        reports.add(report);
        listener.accept(report);
        if (validate && sinceBest > config.patience() && epoch < config.epochs()) {
          stoppedEarly = true;
          break;
        }
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    StudentNet kept = best != null ? best : net;
    return new TrainResult(
        kept, bestEpoch, reports, rowsTrained, trainSeconds, cpuSeconds, stoppedEarly);
  }

  private static void runShards(
      ExecutorService pool,
      ShardWorkspace[] ws,
      int used,
      int shardRows,
      int start,
      int count,
      StudentNet net,
      float[][][] w,
      float[][][] wt,
      TrainingSet data,
      int[] order,
      RowLoss loss,
      ActivationRanges ranges) {
    List<Callable<Void>> tasks = new ArrayList<>(used);
    for (int s = 0; s < used; s++) {
      int from = start + s * shardRows;
      int n = Math.min(shardRows, start + count - from);
      ShardWorkspace shard = ws[s];
      tasks.add(
          () -> {
            shard.forward(net, w, data, order, from, n, ranges);
            shard.backward(wt, loss, count);
            return null;
          });
    }
    if (pool == null || used == 1) {
      for (Callable<Void> t : tasks) {
        try {
          t.call();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      return;
    }
    try {
      for (Future<Void> f : pool.invokeAll(tasks)) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("training interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Sums shard gradients in shard order and applies Adam; returns the batch's summed loss. */
  private static double step(
      StudentNet net,
      Adam adam,
      ShardWorkspace[] ws,
      int used,
      float[] embGrad,
      boolean[] touched,
      int[] touchedRows,
      TrainingSet data,
      int d) {
    double loss = 0;
    for (int s = 0; s < used; s++) {
      loss += ws[s].lossSum;
    }
    ShardWorkspace first = ws[0];
    for (int s = 1; s < used; s++) {
      for (int l = 0; l < net.layers(); l++) {
        float[][] g = ws[s].gradW[l];
        for (int i = 0; i < g.length; i++) {
          DenseKernels.add(g[i], first.gradW[l][i], g[i].length);
        }
        DenseKernels.add(ws[s].gradB[l], first.gradB[l], first.gradB[l].length);
      }
    }
    adam.beginStep();
    for (int l = 0; l < net.layers(); l++) {
      adam.updateLayer(net, l, first.gradW[l], first.gradB[l]);
    }
    int columns = net.columns();
    if (columns == 0) {
      return loss;
    }
    int touchedCount = 0;
    long[] ids = data.ids();
    for (int s = 0; s < used; s++) {
      ShardWorkspace shard = ws[s];
      for (int k = 0; k < shard.rows; k++) {
        int src = shard.sourceRow[k];
        for (int c = 0; c < columns; c++) {
          int row = net.tableRow(c, ids[src * columns + c]);
          if (!touched[row]) {
            touched[row] = true;
            touchedRows[touchedCount++] = row;
          }
          DenseKernels.addAt(shard.gradEmbedded[k], c * d, embGrad, row * d, d);
        }
      }
    }
    for (int t = 0; t < touchedCount; t++) {
      int row = touchedRows[t];
      adam.updateEmbedding(net, embGrad, row * d, d);
      java.util.Arrays.fill(embGrad, row * d, row * d + d, 0f);
      touched[row] = false;
    }
    return loss;
  }

  /** CPU time of this process (all threads), or 0 where the JVM does not expose it. */
  static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime()
        : 0L;
  }

  private static double meanLoss(RowLoss loss, float[] logits) {
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      sum += loss.loss(i, logits[i]);
    }
    return logits.length == 0 ? Double.NaN : sum / logits.length;
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "distill-trainer-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  public StudentConfig config() {
    return config;
  }
}
