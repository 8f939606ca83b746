package ai.distill.optimizer.eval;

import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Side-by-side throughput of models (typically FP32 and its INT8 variants) in one process: same
 * rows, same batch, same threads, rounds interleaved so machine noise hits all alike. Besides wall
 * time it measures the calling thread's CPU time: with one intra-op thread ORT runs on the caller,
 * so CPU-time rows/s ignore the time other processes take the core from us on a shared machine. A
 * benchmark, not a test. Owns its sessions and tensors for the duration of a call.
 */
public final class ThroughputBenchmark {

  /**
   * Rows per second of both models at one batch size; the CPU-time rates are NaN when the JVM
   * cannot measure thread CPU time or ORT ran on more than one thread.
   */
  public record Result(
      int batch,
      double referenceRowsPerSecond,
      double candidateRowsPerSecond,
      double referenceCpuRowsPerSecond,
      double candidateCpuRowsPerSecond) {

    /** candidate / reference, wall time. */
    public double ratio() {
      return candidateRowsPerSecond / referenceRowsPerSecond;
    }

    /** candidate / reference, CPU time of the running thread. */
    public double cpuRatio() {
      return candidateCpuRowsPerSecond / referenceCpuRowsPerSecond;
    }
  }

  /** One model's rows/s over all rounds (wall and CPU time) and its per-round wall rates. */
  public record Rate(double rowsPerSecond, double cpuRowsPerSecond, double[] perRound) {}

  private ThroughputBenchmark() {}

  /** Measures two models at each batch size. */
  public static List<Result> compare(
      byte[] reference,
      byte[] candidate,
      RowTable rows,
      int[] batches,
      int threads,
      Duration perRound,
      int rounds) {
    List<Result> results = new ArrayList<>();
    for (int batch : batches) {
      List<Rate> r =
          measure(List.of(reference, candidate), rows, batch, threads, perRound, rounds, false);
      results.add(
          new Result(
              batch,
              r.get(0).rowsPerSecond(),
              r.get(1).rowsPerSecond(),
              r.get(0).cpuRowsPerSecond(),
              r.get(1).cpuRowsPerSecond()));
    }
    return results;
  }

  /**
   * The median over {@code rounds} of candidate over reference rows/s, each round measuring both
   * back to back (order alternating); by CPU time when ORT runs on one thread, else wall time.
   * Robust to load that comes and goes on a shared machine, where totals are not.
   */
  public static double medianRatio(
      byte[] reference,
      byte[] candidate,
      RowTable rows,
      int batch,
      int threads,
      Duration perRound,
      int rounds) {
    List<Rate> r =
        measure(List.of(reference, candidate), rows, batch, threads, perRound, rounds, true);
    double[] ratios = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      ratios[i] = r.get(1).perRound()[i] / r.get(0).perRound()[i];
    }
    Arrays.sort(ratios);
    return rounds % 2 == 1 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
  }

  /**
   * Rows/s of each model at one batch size, rounds rotating the order of the models.
   *
   * @param cpuPerRound per-round rates by CPU time (when measurable) instead of wall time
   */
  public static List<Rate> measure(
      List<byte[]> models,
      RowTable rows,
      int batch,
      int threads,
      Duration perRound,
      int rounds,
      boolean cpuPerRound) {
    if (rows.rows() == 0) {
      throw new IllegalArgumentException(
          "rows : empty (expected: at least one row to benchmark with)");
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    boolean cpu = threads == 1 && mx.isCurrentThreadCpuTimeSupported();
    TableScorer.Options o = new TableScorer.Options(threads, OptLevel.ALL_OPT, 256, null);
    List<TableScorer> scorers = new ArrayList<>();
    Map<String, OnnxTensor> tensors = null;
    try {
      for (byte[] m : models) {
        scorers.add(TableScorer.open(m, o));
      }
      int[] repeated = new int[batch];
      for (int i = 0; i < batch; i++) {
        repeated[i] = i % rows.rows();
      }
      tensors = scorers.get(0).tensors(rows.select(repeated), 0, batch);
      int n = models.size();
      for (TableScorer s : scorers) {
        for (int i = 0; i < 5; i++) {
          s.runOnly(tensors);
        }
      }
      long[] runs = new long[n];
      long[] nanos = new long[n];
      long[] cpuNanos = new long[n];
      double[][] perRoundRates = new double[n][rounds];
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < n; k++) {
          int idx = (r + k) % n;
          long start = System.nanoTime();
          long cpuStart = cpu ? mx.getCurrentThreadCpuTime() : 0;
          long end = start + perRound.toNanos();
          long count = 0;
          long now;
          do {
            scorers.get(idx).runOnly(tensors);
            count++;
            now = System.nanoTime();
          } while (now < end);
          long cpuUsed = cpu ? mx.getCurrentThreadCpuTime() - cpuStart : 0;
          runs[idx] += count;
          nanos[idx] += now - start;
          cpuNanos[idx] += cpuUsed;
          perRoundRates[idx][r] =
              count * batch / ((cpuPerRound && cpu ? cpuUsed : now - start) / 1e9);
        }
      }
      List<Rate> rates = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        rates.add(
            new Rate(
                runs[i] * batch / (nanos[i] / 1e9),
                cpu ? runs[i] * batch / (cpuNanos[i] / 1e9) : Double.NaN,
                perRoundRates[i]));
      }
      return rates;
    } finally {
      if (tensors != null) {
        tensors.values().forEach(OnnxTensor::close);
      }
      scorers.forEach(TableScorer::close);
    }
  }
}
