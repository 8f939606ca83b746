package ai.distill.loadtest.report;

import ai.distill.loadtest.generator.LatencySummary;
import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.generator.WindowResult;
import ai.distill.loadtest.oip.ServerSplit;
import java.util.Map;

/**
 * One row of a benchmark: one load level against one target, reported over the stable windows.
 *
 * @param group which part of the suite it belongs to ("steady", "ramp", "baseline", "variants",
 *     ...)
 * @param target "gateway" or "in-process"
 * @param variant the model (and version) measured
 * @param mode "open" (load = requests/s offered) or "closed" (load = concurrency)
 * @param latency coordinated-omission corrected latencies of successful requests, in ms
 * @param uncorrectedP99 p99 measured from the actual send (what a naive client reports), in ms
 * @param sendDelayP99 p99 of how late requests went on a connection after their intended start (the
 *     client's own delay: scheduling, pauses, waiting for a pooled connection), in ms
 * @param server the gateway's queue/compute split over the run, or null when not scraped
 */
public record Measurement(
    String group,
    String target,
    String variant,
    String mode,
    double load,
    int rowsPerRequest,
    double seconds,
    double throughput,
    double rowsPerSecond,
    LatencySummary latency,
    double uncorrectedP99,
    double sendDelayP99,
    Map<String, Long> outcomes,
    long sent,
    long clientSaturated,
    boolean stable,
    int windows,
    ServerSplit server) {

  public static Measurement of(
      String group, String target, String variant, RunResult run, ServerSplit server) {
    WindowResult w = run.measured();
    return new Measurement(
        group,
        target,
        variant,
        run.mode(),
        run.load(),
        w.rowsPerRequest(),
        w.seconds(),
        w.throughput(),
        w.rowsPerSecond(),
        w.latency(),
        w.uncorrectedLatency().p99(),
        w.sendDelayLatency().p99(),
        Map.copyOf(w.outcomes()),
        w.sent(),
        w.clientSaturated(),
        run.stable(),
        run.windows().size(),
        server);
  }

  /** Requests that ended in a non-2xx status or a transport error. */
  public long errors() {
    return outcomes.entrySet().stream()
        .filter(e -> !e.getKey().startsWith("2"))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  public long count(String key) {
    return outcomes.getOrDefault(key, 0L);
  }

  public long serverErrors() {
    return outcomes.entrySet().stream()
        .filter(e -> e.getKey().length() == 3 && e.getKey().startsWith("5"))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  /** "500 req/s" or "8 concurrent". */
  public String loadLabel() {
    String v =
        load == Math.rint(load)
            ? Long.toString((long) load)
            : String.format(java.util.Locale.ROOT, "%.1f", load);
    return "open".equals(mode) ? v + " req/s" : v + " concurrent";
  }

  /** Outcome counts other than 2xx as "429×3 503×1", or "-" when there were none. */
  public String errorSummary() {
    StringBuilder sb = new StringBuilder();
    outcomes.forEach(
        (k, v) -> {
          if (!k.startsWith("2")) {
            sb.append(sb.length() > 0 ? " " : "").append(k).append('×').append(v);
          }
        });
    if (clientSaturated > 0) {
      sb.append(sb.length() > 0 ? " " : "").append("client_saturated×").append(clientSaturated);
    }
    return sb.length() == 0 ? "-" : sb.toString();
  }
}
