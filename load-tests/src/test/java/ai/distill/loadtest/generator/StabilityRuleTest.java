package ai.distill.loadtest.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class StabilityRuleTest {
  private final StabilityRule rule = new StabilityRule(3, 0.10, 6);

  @Test
  void is_stable_when_the_last_three_windows_agree_within_tolerance() {
    List<WindowResult> windows =
        List.of(window(500, 9.0), window(1000, 2.0), window(1040, 2.1), window(980, 2.05));
    assertTrue(rule.isStable(windows));
    assertFalse(rule.wantsMore(windows));
  }

  @Test
  void is_not_stable_with_fewer_windows_than_compared() {
    assertFalse(rule.isStable(List.of(window(1000, 2.0), window(1000, 2.0))));
  }

  @Test
  void throughput_outside_tolerance_keeps_measuring() {
    List<WindowResult> windows = List.of(window(1000, 2.0), window(1300, 2.0), window(1000, 2.0));
    assertFalse(rule.isStable(windows));
    assertTrue(rule.wantsMore(windows));
  }

  @Test
  void p99_outside_tolerance_keeps_measuring() {
    assertFalse(rule.isStable(List.of(window(1000, 2.0), window(1000, 2.0), window(1000, 3.0))));
  }

  @Test
  void stops_at_max_windows_even_when_unstable() {
    List<WindowResult> windows = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      windows.add(window(1000 + 400 * (i % 2), 2.0));
    }
    assertFalse(rule.isStable(windows));
    assertFalse(rule.wantsMore(windows));
    assertEquals(3, rule.lastWindows(windows).size());
  }

  @Test
  void merged_result_sums_counts_and_histograms() {
    WindowResult merged = WindowResult.merge(List.of(window(1000, 2.0), window(500, 4.0)));
    assertEquals(1500, merged.okCompletedInWindow());
    assertEquals(2.0, merged.seconds());
    assertEquals(750, merged.throughput());
    assertEquals(200, merged.corrected().getTotalCount());
  }

  /**
   * A one-second window with {@code throughput} successes and all 100 latencies at {@code p99Ms}.
   */
  static WindowResult window(long throughput, double p99Ms) {
    Histogram h = new Histogram(60_000_000L, 3);
    h.recordValueWithCount((long) (p99Ms * 1000), 100);
    return new WindowResult(
        0, 1.0, throughput, 0, throughput, throughput, 1, Map.of("200", throughput), h, h.copy());
  }
}
