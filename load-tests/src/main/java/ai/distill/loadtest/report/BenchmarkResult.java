package ai.distill.loadtest.report;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one command measured: its setup (command line, cores, model), the measurements, the
 * headline figures (ratios against the in-process baseline, saturation point, recovery time) and
 * the pass/fail checks of a scenario. Built by one thread, then read-only.
 */
public final class BenchmarkResult {
  /** A scenario's assertion, e.g. "no failed requests during the hot swap". */
  public record Check(String name, boolean passed, String detail) {}

  private final String title;
  private final Instant started = Instant.now();
  private final Map<String, String> setup = new LinkedHashMap<>();
  private final List<Measurement> measurements = new ArrayList<>();
  private final Map<String, Double> figures = new LinkedHashMap<>();
  private final List<Check> checks = new ArrayList<>();

  public BenchmarkResult(String title) {
    this.title = title;
  }

  public BenchmarkResult setup(String key, Object value) {
    setup.put(key, String.valueOf(value));
    return this;
  }

  public BenchmarkResult add(Measurement m) {
    measurements.add(m);
    return this;
  }

  public BenchmarkResult figure(String name, double value) {
    figures.put(name, value);
    return this;
  }

  public BenchmarkResult check(String name, boolean passed, String detail) {
    checks.add(new Check(name, passed, detail));
    return this;
  }

  public String title() {
    return title;
  }

  public Instant started() {
    return started;
  }

  public Map<String, String> setup() {
    return setup;
  }

  public List<Measurement> measurements() {
    return measurements;
  }

  public List<Measurement> group(String group) {
    return measurements.stream().filter(m -> m.group().equals(group)).toList();
  }

  public Map<String, Double> figures() {
    return figures;
  }

  public List<Check> checks() {
    return checks;
  }

  public boolean passed() {
    return checks.stream().allMatch(Check::passed);
  }
}
