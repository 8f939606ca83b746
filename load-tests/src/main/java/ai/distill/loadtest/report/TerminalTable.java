package ai.distill.loadtest.report;

import ai.distill.loadtest.oip.ServerSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link BenchmarkResult} as fixed-width text for the terminal. Stateless. */
public final class TerminalTable {
  static final String[] HEADERS = {
    "group",
    "target",
    "variant",
    "load",
    "rows/req",
    "req/s",
    "rows/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "send delay p99 ms",
    "queue ms",
    "compute ms",
    "batch rows",
    "errors",
    "stable"
  };

  private TerminalTable() {}

  public static String render(BenchmarkResult result) {
    StringBuilder sb = new StringBuilder();
    sb.append(result.title()).append('\n');
    result.setup().forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
    List<String[]> rows = new ArrayList<>();
    rows.add(HEADERS);
    for (Measurement m : result.measurements()) {
      rows.add(cells(m));
    }
    int[] widths = new int[HEADERS.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (int r = 0; r < rows.size(); r++) {
      String[] row = rows.get(r);
      for (int i = 0; i < row.length; i++) {
        sb.append(i == 0 ? "" : "  ");
        sb.append(
            i < 3 || i == row.length - 2
                ? pad(row[i], widths[i], false)
                : pad(row[i], widths[i], true));
      }
      sb.append('\n');
      if (r == 0) {
        int total = 0;
        for (int w : widths) {
          total += w + 2;
        }
        sb.append("-".repeat(total - 2)).append('\n');
      }
    }
    for (Map.Entry<String, Double> f : result.figures().entrySet()) {
      sb.append(f.getKey()).append(": ").append(num(f.getValue())).append('\n');
    }
    for (BenchmarkResult.Check c : result.checks()) {
      sb.append(c.passed() ? "PASS " : "FAIL ")
          .append(c.name())
          .append(" — ")
          .append(c.detail())
          .append('\n');
    }
    return sb.toString();
  }

  /**
   * The cells of one measurement in {@link #HEADERS} order (shared by the CSV and Markdown
   * writers).
   */
  static String[] cells(Measurement m) {
    ServerSplit s = m.server();
    return new String[] {
      m.group(),
      m.target(),
      m.variant(),
      m.loadLabel(),
      Integer.toString(m.rowsPerRequest()),
      num(m.throughput()),
      num(m.rowsPerSecond()),
      num(m.latency().p50()),
      num(m.latency().p90()),
      num(m.latency().p99()),
      num(m.latency().p999()),
      "in-process".equals(m.target()) ? "-" : num(m.sendDelayP99()),
      s == null ? "-" : num(s.queueMs()),
      s == null ? "-" : num(s.computeMs()),
      s == null ? "-" : num(s.batchRows()),
      m.errorSummary(),
      m.stable() ? "yes" : "no (" + m.windows() + " windows)"
    };
  }

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    if (Math.abs(v) >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (Math.abs(v) >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String pad(String s, int width, boolean right) {
    String spaces = " ".repeat(Math.max(0, width - s.length()));
    return right ? spaces + s : s + spaces;
  }
}
