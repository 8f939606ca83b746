package ai.distill.optimizer.eval;

import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Side-by-side throughput of two models (typically FP32 and its INT8 variant) in one process: same
 * rows, same batch, same threads, rounds interleaved so machine noise hits both alike. A benchmark,
 * not a test: numbers are indicative on a shared machine. Owns its sessions and tensors for the
 * duration of {@link #compare}.
 */
public final class ThroughputBenchmark {

  /** Rows per second of both models at one batch size. */
  public record Result(int batch, double referenceRowsPerSecond, double candidateRowsPerSecond) {

    /** candidate / reference. */
    public double ratio() {
      return candidateRowsPerSecond / referenceRowsPerSecond;
    }
  }

  private ThroughputBenchmark() {}

  /**
   * Measures both models at each batch size.
   *
   * @param rows rows to build the batches from (repeated if fewer than the batch)
   * @param perRound time per model per round; rounds alternate reference and candidate
   */
  public static List<Result> compare(
      byte[] reference,
      byte[] candidate,
      RowTable rows,
      int[] batches,
      int threads,
      Duration perRound,
      int rounds) {
    if (rows.rows() == 0) {
      throw new IllegalArgumentException(
          "rows : empty (expected: at least one row to benchmark with)");
    }
    TableScorer.Options o = new TableScorer.Options(threads, OptLevel.ALL_OPT, 256, null);
    List<Result> results = new ArrayList<>();
    try (TableScorer a = TableScorer.open(reference, o);
        TableScorer b = TableScorer.open(candidate, o)) {
      for (int batch : batches) {
        int[] repeated = new int[batch];
        for (int i = 0; i < batch; i++) {
          repeated[i] = i % rows.rows();
        }
        Map<String, OnnxTensor> tensors = a.tensors(rows.select(repeated), 0, batch);
        try {
          long[] runs = new long[2];
          long[] nanos = new long[2];
          TableScorer[] both = {a, b};
          for (TableScorer s : both) {
            for (int i = 0; i < 5; i++) {
              s.runOnly(tensors);
            }
          }
          for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < 2; k++) {
              TableScorer s = both[(r + k) % 2];
              int idx = (r + k) % 2;
              long start = System.nanoTime();
              long end = start + perRound.toNanos();
              long now;
              do {
                s.runOnly(tensors);
                runs[idx]++;
                now = System.nanoTime();
              } while (now < end);
              nanos[idx] += now - start;
            }
          }
          results.add(
              new Result(
                  batch, runs[0] * batch / (nanos[0] / 1e9), runs[1] * batch / (nanos[1] / 1e9)));
        } finally {
          tensors.values().forEach(OnnxTensor::close);
        }
      }
    }
    return results;
  }
}
