package ai.distill.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.generator.WindowResult;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.loadtest.report.TerminalTable;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * The gateway ÷ in-process ratio is a capacity ratio: printed only when the gateway run measured
 * capacity.
 */
class BaselineComparisonTest {
  // In-process: 652 rows/s (1 row per batch, 2 s); the gateway was offered 30 req/s open loop.
  static final Measurement BASELINE = measurement("in-process", "closed", 1, 1304, 2.0, 1);
  static final Measurement OPEN_30 = measurement("gateway", "open", 30, 60, 2.0, 1);

  @Test
  void closed_loop_runs_and_saturated_ramps_measure_capacity_unsaturated_open_loop_does_not() {
    assertTrue(
        BaselineComparison.measuredCapacity(
            measurement("gateway", "closed", 8, 1000, 2.0, 1), false));
    assertTrue(BaselineComparison.measuredCapacity(OPEN_30, true));
    assertFalse(BaselineComparison.measuredCapacity(OPEN_30, false));
  }

  @Test
  void open_loop_run_prints_achieved_rate_next_to_in_process_capacity_and_no_ratio() {
    BenchmarkResult out = new BenchmarkResult("steady");
    BaselineComparison.compare(
        OPEN_30, BaselineComparison.measuredCapacity(OPEN_30, false), OPEN_30, BASELINE, out);

    assertFalse(out.figures().containsKey(BaselineComparison.ROWS_RATIO), out.figures().toString());
    assertEquals(30.0, out.figures().get(BaselineComparison.ACHIEVED_ROWS), 1e-9);
    assertEquals(652.0, out.figures().get(BaselineComparison.IN_PROCESS_CAPACITY), 1e-9);
    assertEquals(
        "not computed: the gateway run offered 30 req/s open loop, which is not its capacity"
            + " (use ramp, or steady --concurrency, for a capacity ratio)",
        out.setup().get(BaselineComparison.NO_RATIO));
    String printed = TerminalTable.render(out);
    assertTrue(
        printed.contains("gateway rows/s achieved (offered load, not capacity): 30.0"), printed);
    assertTrue(printed.contains("in-process capacity (rows/s): 652"), printed);
    assertFalse(printed.contains("÷"), printed);
    assertTrue(
        out.figures().containsKey(BaselineComparison.P99_GAP),
        "latency at the offered load is still compared");
  }

  @Test
  void capacity_run_prints_the_ratio() {
    Measurement closed = measurement("gateway", "closed", 8, 1000, 2.0, 1);
    BenchmarkResult out = new BenchmarkResult("steady");
    BaselineComparison.compare(
        closed, BaselineComparison.measuredCapacity(closed, false), closed, BASELINE, out);

    assertEquals(500.0 / 652.0, out.figures().get(BaselineComparison.ROWS_RATIO), 1e-9);
    assertFalse(out.figures().containsKey(BaselineComparison.ACHIEVED_ROWS));
    assertFalse(out.setup().containsKey(BaselineComparison.NO_RATIO));
  }

  /**
   * A run of {@code seconds} with {@code ok} successful requests of {@code rows} rows, all at 2 ms.
   */
  static Measurement measurement(
      String target, String mode, double load, long ok, double seconds, int rows) {
    Histogram h = new Histogram(60_000_000L, 3);
    h.recordValueWithCount(2000, ok);
    WindowResult w =
        new WindowResult(0, seconds, ok, 0, ok, ok, rows, Map.of("200", ok), h, h.copy());
    return Measurement.of(
        "steady", target, "ctr", new RunResult(mode, load, List.of(w), true, w), null);
  }
}
