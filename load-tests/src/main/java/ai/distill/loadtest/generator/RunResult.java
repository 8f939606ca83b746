package ai.distill.loadtest.generator;

import java.util.List;

/**
 * One measured load level: every finished window, whether the stability rule held, and the windows
 * the figures are reported over merged into {@code measured}.
 *
 * @param mode "open" (fixed request rate) or "closed" (fixed concurrency)
 * @param load requests per second for "open", concurrent requests for "closed"
 */
public record RunResult(
    String mode, double load, List<WindowResult> windows, boolean stable, WindowResult measured) {

  public String label() {
    return "open".equals(mode) ? fmt(load) + " req/s" : fmt(load) + " concurrent";
  }

  private static String fmt(double v) {
    return v == Math.rint(v)
        ? Long.toString((long) v)
        : String.format(java.util.Locale.ROOT, "%.1f", v);
  }
}
