package ai.distill.loadtest.report;

import ai.distill.loadtest.LoadTestException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes the benchmark report into a directory: {@code report.md} (setup, headline figures, checks,
 * one table per group), {@code results.json}/{@code results.csv}, and the PNG plots it links
 * ({@code latency-vs-load.png} from the "ramp" group, {@code throughput-per-variant.png} from
 * "variants" and "baseline"). Stateless.
 */
public final class MarkdownReport {
  public static final String LATENCY_PLOT = "latency-vs-load.png";
  public static final String THROUGHPUT_PLOT = "throughput-per-variant.png";

  private MarkdownReport() {}

  /** Writes the report; returns the path of {@code report.md}. */
  public static Path write(BenchmarkResult result, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new LoadTestException(
          "cannot create report directory " + dir + ": " + e.getMessage(), e);
    }
    List<String> plots = new ArrayList<>();
    List<Measurement> sweep = new ArrayList<>(result.group("ramp"));
    if (sweep.isEmpty()) {
      sweep =
          result.measurements().stream()
              .filter(m -> "open".equals(m.mode()) && "gateway".equals(m.target()))
              .toList();
    }
    if (Plots.latencyVsLoad(
        sweep,
        "Gateway latency vs load (coordinated-omission corrected)",
        dir.resolve(LATENCY_PLOT))) {
      plots.add(LATENCY_PLOT);
    }
    List<Measurement> perVariant = new ArrayList<>(result.group("variants"));
    perVariant.addAll(result.group("baseline"));
    if (Plots.throughputPerVariant(
        perVariant, "Throughput per variant", dir.resolve(THROUGHPUT_PLOT))) {
      plots.add(THROUGHPUT_PLOT);
    }
    ResultFiles.write(result, dir.resolve("results"));
    Path md = dir.resolve("report.md");
    try {
      Files.writeString(md, markdown(result, plots), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new LoadTestException("cannot write " + md + ": " + e.getMessage(), e);
    }
    return md;
  }

  static String markdown(BenchmarkResult result, List<String> plots) {
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(result.title()).append("\n\n");
    sb.append("Started ")
        .append(result.started())
        .append(". Latencies are measured from each request's intended ")
        .append(
            "send time (open loop, coordinated-omission corrected) unless the mode is closed loop.\n\n");
    if (!result.setup().isEmpty()) {
      sb.append("## Setup\n\n");
      result
          .setup()
          .forEach((k, v) -> sb.append("- ").append(k).append(": `").append(v).append("`\n"));
      sb.append('\n');
    }
    if (!result.figures().isEmpty()) {
      sb.append("## Headline figures\n\n| figure | value |\n|---|---:|\n");
      for (Map.Entry<String, Double> f : result.figures().entrySet()) {
        sb.append("| ")
            .append(f.getKey())
            .append(" | ")
            .append(TerminalTable.num(f.getValue()))
            .append(" |\n");
      }
      sb.append('\n');
    }
    if (!result.checks().isEmpty()) {
      sb.append("## Checks\n\n");
      for (BenchmarkResult.Check c : result.checks()) {
        sb.append("- ")
            .append(c.passed() ? "✅ PASS" : "❌ FAIL")
            .append(" **")
            .append(c.name())
            .append("** — ")
            .append(c.detail())
            .append('\n');
      }
      sb.append('\n');
    }
    List<String> groups = new ArrayList<>();
    result
        .measurements()
        .forEach(
            m -> {
              if (!groups.contains(m.group())) {
                groups.add(m.group());
              }
            });
    for (String group : groups) {
      sb.append("## ").append(group).append("\n\n|");
      for (int i = 1; i < TerminalTable.HEADERS.length; i++) {
        sb.append(' ').append(TerminalTable.HEADERS[i]).append(" |");
      }
      sb.append("\n|");
      for (int i = 1; i < TerminalTable.HEADERS.length; i++) {
        sb.append(i <= 3 || i >= TerminalTable.HEADERS.length - 2 ? "---|" : "---:|");
      }
      sb.append('\n');
      for (Measurement m : result.group(group)) {
        String[] cells = TerminalTable.cells(m);
        sb.append('|');
        for (int i = 1; i < cells.length; i++) {
          sb.append(' ').append(cells[i]).append(" |");
        }
        sb.append('\n');
      }
      sb.append('\n');
    }
    for (String plot : plots) {
      sb.append("![")
          .append(plot.replace(".png", "").replace('-', ' '))
          .append("](")
          .append(plot)
          .append(")\n\n");
    }
    return sb.toString();
  }
}
