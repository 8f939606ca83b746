package ai.distill.loadtest.generator;

import java.util.List;

/**
 * When to stop measuring, as perf_analyzer does: the run is stable once the throughput and the p99
 * of each of the last {@code windows} windows lie within ±{@code tolerance} of their mean; a run
 * gives up after {@code maxWindows} and is reported as unstable. Immutable.
 */
public record StabilityRule(int windows, double tolerance, int maxWindows) {

  public static final StabilityRule DEFAULT = new StabilityRule(3, 0.10, 10);

  public StabilityRule {
    if (windows < 1) {
      throw new IllegalArgumentException("windows : " + windows + " (expected: >= 1)");
    }
    if (!(tolerance > 0)) {
      throw new IllegalArgumentException("tolerance : " + tolerance + " (expected: > 0)");
    }
    if (maxWindows < windows) {
      throw new IllegalArgumentException(
          "maxWindows : " + maxWindows + " (expected: >= windows = " + windows + ")");
    }
  }

  /** Whether the last {@link #windows()} of {@code finished} agree within the tolerance. */
  public boolean isStable(List<WindowResult> finished) {
    if (finished.size() < windows) {
      return false;
    }
    List<WindowResult> last = lastWindows(finished);
    double[] throughput = new double[last.size()];
    double[] p99 = new double[last.size()];
    for (int i = 0; i < last.size(); i++) {
      throughput[i] = last.get(i).throughput();
      p99[i] = last.get(i).p99Millis();
    }
    return agree(throughput) && agree(p99);
  }

  /** Whether another window should be measured after {@code finished}. */
  public boolean wantsMore(List<WindowResult> finished) {
    return finished.size() < maxWindows && !isStable(finished);
  }

  /** The windows the result is reported over: the last {@link #windows()} (or all, if fewer). */
  public List<WindowResult> lastWindows(List<WindowResult> finished) {
    return finished.subList(Math.max(0, finished.size() - windows), finished.size());
  }

  private boolean agree(double[] values) {
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= values.length;
    if (mean == 0) {
      return true;
    }
    for (double v : values) {
      if (Math.abs(v - mean) > tolerance * mean) {
        return false;
      }
    }
    return true;
  }
}
