package ai.distill.loadtest.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsSnapshotTest {
  static final String BEFORE =
      """
      # HELP distill_request_duration_seconds Request latency.
      # TYPE distill_request_duration_seconds histogram
      distill_request_duration_seconds_bucket{model="ctr",version="1",le="0.005"} 10
      distill_request_duration_seconds_sum{model="ctr",version="1"} 0.5
      distill_request_duration_seconds_count{model="ctr",version="1"} 100
      distill_request_duration_seconds_sum{model="other",version="1"} 9.0
      distill_request_duration_seconds_count{model="other",version="1"} 9
      distill_queue_wait_seconds_sum{model="ctr",version="1"} 0.1
      distill_queue_wait_seconds_count{model="ctr",version="1"} 100
      distill_compute_duration_seconds_sum{model="ctr",version="1"} 0.2
      distill_compute_duration_seconds_count{model="ctr",version="1"} 10
      distill_requests_total{model="ctr",outcome="ok"} 100.0
      distill_batch_rows_sum{model="ctr",version="1"} 640
      distill_batch_rows_count{model="ctr",version="1"} 10
      """;
  static final String AFTER =
      """
      distill_request_duration_seconds_sum{model="ctr",version="1"} 0.5
      distill_request_duration_seconds_count{model="ctr",version="1"} 100
      distill_request_duration_seconds_sum{model="ctr",version="2"} 1.5
      distill_request_duration_seconds_count{model="ctr",version="2"} 500
      distill_request_duration_seconds_sum{model="other",version="1"} 19.0
      distill_request_duration_seconds_count{model="other",version="1"} 19
      distill_queue_wait_seconds_sum{model="ctr",version="1"} 0.6
      distill_queue_wait_seconds_count{model="ctr",version="1"} 600
      distill_compute_duration_seconds_sum{model="ctr",version="1"} 1.2
      distill_compute_duration_seconds_count{model="ctr",version="1"} 60
      distill_batch_rows_sum{model="ctr",version="1"} 13440
      distill_batch_rows_count{model="ctr",version="1"} 60
      """;

  @Test
  void sums_series_by_name_prefix_suffix_and_model_label() {
    MetricsSnapshot s = MetricsSnapshot.parse(BEFORE);
    assertEquals(0.5, s.sum("distill_request", "_seconds_sum", "ctr"), 1e-12);
    assertEquals(9.5, s.sum("distill_request", "_seconds_sum", null), 1e-12);
    assertEquals(100, s.sum("distill_request", "_seconds_count", "ctr"), 1e-12);
    assertTrue(s.has("distill_queue"));
    assertFalse(s.has("distill_nothing"));
  }

  @Test
  void parses_escaped_label_values_and_special_floats() {
    MetricsSnapshot s =
        MetricsSnapshot.parse("m{a=\"x\\\"y\",model=\"ctr\"} +Inf\nplain 3 1700000000\n");
    assertEquals("x\"y", s.samples().get(0).labels().get("a"));
    assertEquals(Double.POSITIVE_INFINITY, s.samples().get(0).value());
    assertEquals(3.0, s.samples().get(1).value());
  }

  @Test
  void server_split_is_the_mean_of_the_histogram_deltas_across_versions() {
    ServerSplit split =
        ServerSplit.between(MetricsSnapshot.parse(BEFORE), MetricsSnapshot.parse(AFTER), "ctr");
    assertEquals(1.5 / 500 * 1000, split.requestMs(), 1e-9);
    assertEquals(0.5 / 500 * 1000, split.queueMs(), 1e-9);
    assertEquals(1.0 / 50 * 1000, split.computeMs(), 1e-9);
    assertEquals(500, split.requests());
    assertEquals(256.0, split.batchRows(), 1e-9);
  }

  @Test
  void server_split_is_unavailable_without_the_histograms() {
    ServerSplit split =
        ServerSplit.between(MetricsSnapshot.EMPTY, MetricsSnapshot.parse("up 1\n"), "ctr");
    assertFalse(split.available());
    assertTrue(Double.isNaN(split.queueMs()));
  }
}
