package ai.distill.loadtest.oip;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The samples of one scrape of a Prometheus text exposition ({@code GET /metrics}), enough to take
 * before/after deltas of histogram {@code _sum}/{@code _count} series. Immutable.
 */
public record MetricsSnapshot(List<Sample> samples) {

  public static final MetricsSnapshot EMPTY = new MetricsSnapshot(List.of());

  /** One sample line: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  /** Parses the text format; comment and malformed lines are skipped. */
  public static MetricsSnapshot parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        samples.add(parseLine(line));
      } catch (RuntimeException e) {
        // Not a sample we understand (e.g. an exemplar format we do not read); skip it.
      }
    }
    return new MetricsSnapshot(List.copyOf(samples));
  }

  /**
   * The sum of the samples whose name starts with {@code prefix} and ends with {@code suffix}, and
   * whose {@code model} label (when present) equals {@code model}.
   */
  public double sum(String prefix, String suffix, String model) {
    double total = 0;
    for (Sample s : samples) {
      if (s.name.startsWith(prefix) && s.name.endsWith(suffix)) {
        String m = s.labels.get("model");
        if (model == null || m == null || m.equals(model)) {
          total += s.value;
        }
      }
    }
    return total;
  }

  public boolean has(String prefix) {
    return samples.stream().anyMatch(s -> s.name.startsWith(prefix));
  }

  private static Sample parseLine(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    String name;
    Map<String, String> labels = new LinkedHashMap<>();
    int rest;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq).strip();
        int q = line.indexOf('"', eq) + 1;
        StringBuilder value = new StringBuilder();
        while (line.charAt(q) != '"') {
          char c = line.charAt(q);
          if (c == '\\') {
            char n = line.charAt(++q);
            value.append(n == 'n' ? '\n' : n);
          } else {
            value.append(c);
          }
          q++;
        }
        labels.put(key, value.toString());
        i = q + 1;
        while (line.charAt(i) == ',' || line.charAt(i) == ' ') {
          i++;
        }
      }
      rest = i + 1;
    } else {
      name = line.substring(0, space);
      rest = space;
    }
    String[] parts = line.substring(rest).strip().split("\\s+");
    return new Sample(name, labels, parseValue(parts[0]));
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }
}
