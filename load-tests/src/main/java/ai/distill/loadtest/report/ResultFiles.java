package ai.distill.loadtest.report;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LatencySummary;
import ai.distill.loadtest.oip.ServerSplit;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a {@link BenchmarkResult} as JSON (everything) and CSV (one line per measurement).
 * Stateless.
 */
public final class ResultFiles {
  private ResultFiles() {}

  public static JsonObject json(BenchmarkResult result) {
    JsonObject setup = new JsonObject();
    result.setup().forEach(setup::put);
    JsonArray measurements = new JsonArray();
    for (Measurement m : result.measurements()) {
      LatencySummary l = m.latency();
      JsonObject outcomes = new JsonObject();
      m.outcomes().forEach(outcomes::put);
      JsonObject o =
          new JsonObject()
              .put("group", m.group())
              .put("target", m.target())
              .put("variant", m.variant())
              .put("mode", m.mode())
              .put("load", m.load())
              .put("rows_per_request", m.rowsPerRequest())
              .put("seconds", m.seconds())
              .put("requests_per_second", m.throughput())
              .put("rows_per_second", m.rowsPerSecond())
              .put(
                  "latency_ms",
                  new JsonObject()
                      .put("count", l.count())
                      .put("p50", l.p50())
                      .put("p90", l.p90())
                      .put("p99", l.p99())
                      .put("p999", l.p999())
                      .put("max", l.max())
                      .put("mean", l.mean()))
              .put("uncorrected_p99_ms", m.uncorrectedP99())
              .put("send_delay_p99_ms", m.sendDelayP99())
              .put("sent", m.sent())
              .put("outcomes", outcomes)
              .put("errors", m.errors())
              .put("client_saturated", m.clientSaturated())
              .put("stable", m.stable())
              .put("windows", m.windows());
      ServerSplit s = m.server();
      if (s != null && s.available()) {
        o.put(
            "server_ms",
            new JsonObject()
                .put("request", finite(s.requestMs()))
                .put("queue", finite(s.queueMs()))
                .put("compute", finite(s.computeMs()))
                .put("observations", s.requests())
                .put("mean_batch_rows", finite(s.batchRows())));
      }
      measurements.add(o);
    }
    JsonObject figures = new JsonObject();
    result.figures().forEach((k, v) -> figures.put(k, finite(v)));
    JsonArray checks = new JsonArray();
    for (BenchmarkResult.Check c : result.checks()) {
      checks.add(
          new JsonObject()
              .put("name", c.name())
              .put("passed", c.passed())
              .put("detail", c.detail()));
    }
    return new JsonObject()
        .put("title", result.title())
        .put("started", result.started().toString())
        .put("setup", setup)
        .put("measurements", measurements)
        .put("figures", figures)
        .put("checks", checks)
        .put("passed", result.passed());
  }

  public static String csv(BenchmarkResult result) {
    StringBuilder sb =
        new StringBuilder(
            "group,target,variant,mode,load,rows_per_request,requests_per_second,rows_per_second,"
                + "p50_ms,p90_ms,p99_ms,p999_ms,uncorrected_p99_ms,send_delay_p99_ms,server_queue_ms,server_compute_ms,server_batch_rows,"
                + "sent,errors,status_429,status_5xx,client_saturated,stable\n");
    for (Measurement m : result.measurements()) {
      ServerSplit s = m.server();
      sb.append(
              String.join(
                  ",",
                  m.group(),
                  m.target(),
                  m.variant(),
                  m.mode(),
                  f(m.load()),
                  Integer.toString(m.rowsPerRequest()),
                  f(m.throughput()),
                  f(m.rowsPerSecond()),
                  f(m.latency().p50()),
                  f(m.latency().p90()),
                  f(m.latency().p99()),
                  f(m.latency().p999()),
                  f(m.uncorrectedP99()),
                  f(m.sendDelayP99()),
                  s == null ? "" : f(s.queueMs()),
                  s == null ? "" : f(s.computeMs()),
                  s == null ? "" : f(s.batchRows()),
                  Long.toString(m.sent()),
                  Long.toString(m.errors()),
                  Long.toString(m.count("429")),
                  Long.toString(m.serverErrors()),
                  Long.toString(m.clientSaturated()),
                  Boolean.toString(m.stable())))
          .append('\n');
    }
    return sb.toString();
  }

  /** Writes {@code <base>.json} and {@code <base>.csv}. */
  public static void write(BenchmarkResult result, Path base) {
    try {
      Path dir = base.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      Files.writeString(
          base.resolveSibling(base.getFileName() + ".json"),
          json(result).encodePrettily(),
          StandardCharsets.UTF_8);
      Files.writeString(
          base.resolveSibling(base.getFileName() + ".csv"), csv(result), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new LoadTestException(
          "cannot write results to " + base + ".json/.csv: " + e.getMessage(), e);
    }
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static String f(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "";
  }
}
