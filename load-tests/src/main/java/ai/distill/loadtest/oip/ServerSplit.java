package ai.distill.loadtest.oip;

/**
 * Where the server spent a run's requests' time, from the delta of its latency histograms between
 * two scrapes: mean request, queue (waiting for a batch) and compute (ORT) seconds per observation,
 * in milliseconds, and the mean rows per ORT batch ({@code distill_batch_rows}); NaN when the
 * server exposes no such histogram. Immutable.
 */
public record ServerSplit(
    double requestMs, double queueMs, double computeMs, long requests, double batchRows) {

  public static final String REQUEST = "distill_request";
  public static final String QUEUE = "distill_queue";
  public static final String COMPUTE = "distill_compute";
  public static final String BATCH_ROWS = "distill_batch_rows";

  public static ServerSplit between(MetricsSnapshot before, MetricsSnapshot after, String model) {
    double[] request = delta(before, after, REQUEST, model);
    double[] batch =
        after.has(BATCH_ROWS)
            ? new double[] {
              after.sum(BATCH_ROWS, "_sum", model) - before.sum(BATCH_ROWS, "_sum", model),
              after.sum(BATCH_ROWS, "_count", model) - before.sum(BATCH_ROWS, "_count", model)
            }
            : new double[] {Double.NaN, 0};
    return new ServerSplit(
        mean(request),
        mean(delta(before, after, QUEUE, model)),
        mean(delta(before, after, COMPUTE, model)),
        (long) request[1],
        batch[1] > 0 ? batch[0] / batch[1] : Double.NaN);
  }

  public boolean available() {
    return !Double.isNaN(requestMs) || !Double.isNaN(queueMs) || !Double.isNaN(computeMs);
  }

  private static double[] delta(
      MetricsSnapshot before, MetricsSnapshot after, String prefix, String model) {
    if (!after.has(prefix)) {
      return new double[] {Double.NaN, 0};
    }
    return new double[] {
      after.sum(prefix, "_seconds_sum", model) - before.sum(prefix, "_seconds_sum", model),
      after.sum(prefix, "_seconds_count", model) - before.sum(prefix, "_seconds_count", model)
    };
  }

  private static double mean(double[] sumAndCount) {
    return sumAndCount[1] > 0 ? sumAndCount[0] / sumAndCount[1] * 1000.0 : Double.NaN;
  }
}
