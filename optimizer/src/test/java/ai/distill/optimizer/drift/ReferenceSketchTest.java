package ai.distill.optimizer.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReferenceSketchTest {

  private static final Map<String, InputKind> X_FLOAT = Map.of("x", InputKind.FLOAT);

  private static Row x(double... values) {
    return new Row(1, Map.of("x", RowTensor.flat(values)), null, null);
  }

  private static List<Row> column(double... values) {
    List<Row> rows = new ArrayList<>();
    for (double v : values) {
      rows.add(x(v));
    }
    return rows;
  }

  @Test
  void a_continuous_column_gets_nine_decile_edges_and_a_tenth_per_bin() {
    ReferenceSketch sketch =
        ReferenceSketch.of(CtrLikeRows.KINDS, new CtrLikeRows().rows(10_000, 1));

    assertEquals(CtrLikeRows.DENSE + CtrLikeRows.SPARSE, sketch.columns().size());
    var dense3 = (ColumnSketch.Quantiles) sketch.column("dense[3]").orElseThrow();
    assertEquals(9, dense3.edges().length);
    assertEquals(10, dense3.bins());
    for (int b = 0; b < 10; b++) {
      assertEquals(0.1, dense3.share(b), 1e-9, "bin " + b);
    }
    // standard normal deciles: ±1.2816 at the outer edges, 0 in the middle
    assertEquals(-1.2816, dense3.edges()[0], 0.06);
    assertEquals(0.0, dense3.edges()[4], 0.05);
    assertEquals(1.2816, dense3.edges()[8], 0.06);
    assertEquals("sparse[17]", sketch.columns().get(CtrLikeRows.DENSE + 17).name());
  }

  @Test
  void a_constant_column_gets_bins_below_at_and_above_its_value() {
    var col =
        (ColumnSketch.Quantiles)
            ReferenceSketch.of(X_FLOAT, column(3, 3, 3, 3, 3)).columns().get(0);

    assertArrayEquals(new double[] {Math.nextDown(3.0), 3.0}, col.edges());
    assertEquals(3, col.bins());
    assertEquals(0.0, col.share(0));
    assertEquals(1.0, col.share(1));
    assertEquals(0.0, col.share(2));
    assertEquals(0, col.bin(2.9));
    assertEquals(1, col.bin(3.0));
    assertEquals(2, col.bin(3.1));
  }

  @Test
  void ties_merge_edges_and_shares_are_the_exact_fractions() {
    // 60 zeros, then 1..40: the deciles 0,0,0,0,0,0,8,16,24 merge; the point mass at the minimum
    // gets its own bin
    double[] v = new double[100];
    for (int i = 60; i < 100; i++) {
      v[i] = i - 59;
    }
    var col = (ColumnSketch.Quantiles) ReferenceSketch.of(X_FLOAT, column(v)).columns().get(0);

    assertArrayEquals(new double[] {Math.nextDown(0.0), 0, 10, 20, 30}, col.edges());
    double[] shares = new double[col.bins()];
    for (int b = 0; b < shares.length; b++) {
      shares[b] = col.share(b);
    }
    assertArrayEquals(new double[] {0, 0.6, 0.1, 0.1, 0.1, 0.1}, shares, 1e-12);
  }

  @Test
  void nan_values_are_left_out_of_a_float_column() {
    var col =
        ReferenceSketch.of(
                X_FLOAT,
                column(
                    Double.NaN,
                    1,
                    2,
                    3,
                    4,
                    5,
                    6,
                    7,
                    8,
                    9,
                    10,
                    11,
                    12,
                    13,
                    14,
                    15,
                    16,
                    17,
                    18,
                    19,
                    20,
                    Double.NaN))
            .columns()
            .get(0);

    assertEquals(10, col.bins());
    assertEquals(0.1, col.share(9), 1e-12);
    assertEquals(0.1, col.share(0), 1e-12);
    assertEquals(-1, col.bin(Double.NaN));
  }

  @Test
  void an_id_column_lists_its_most_frequent_ids_and_the_share_of_the_others() {
    // id 7 × 5, id 3 × 3, id 9 × 1, id 1 × 1: top 2 are 7 and 3, others 0.2
    var col =
        (ColumnSketch.TopIds)
            ReferenceSketch.builder(Map.of("x", InputKind.INT64))
                .topIds(2)
                .addAll(column(7, 3, 7, 9, 7, 3, 7, 1, 3, 7).iterator())
                .build()
                .columns()
                .get(0);

    assertArrayEquals(new long[] {7, 3}, col.ids());
    assertEquals(0.5, col.share(0), 1e-12);
    assertEquals(0.3, col.share(1), 1e-12);
    assertEquals(0.2, col.otherShare(), 1e-12);
    assertEquals(2, col.bin(12345));
  }

  @Test
  void fewer_distinct_ids_than_k_leave_an_empty_other_bin() {
    var col =
        (ColumnSketch.TopIds)
            ReferenceSketch.of(Map.of("x", InputKind.INT64), column(4, 4, 5, 5)).columns().get(0);

    assertArrayEquals(new long[] {4, 5}, col.ids());
    assertEquals(0.0, col.otherShare());
  }

  @Test
  void the_sample_is_bounded_by_max_rows_and_still_uniform() {
    double[] v = new double[20_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    ReferenceSketch sketch =
        ReferenceSketch.builder(X_FLOAT)
            .maxRows(2_000)
            .seed(3)
            .addAll(column(v).iterator())
            .build();

    assertEquals(20_000, sketch.rowsSeen());
    assertEquals(2_000, sketch.rowsSampled());
    // a prefix-biased sample would put the median far below 10,000
    var col = (ColumnSketch.Quantiles) sketch.columns().get(0);
    assertEquals(10_000, col.edges()[4], 800);
  }

  @Test
  void rows_that_do_not_fit_the_inputs_are_counted_and_skipped() {
    ReferenceSketch.Builder b = ReferenceSketch.builder(CtrLikeRows.KINDS);
    List<Row> good = new CtrLikeRows().rows(50, 1);
    b.addAll(good.iterator());
    assertFalse(b.add(new Row(1, Map.of("dense", RowTensor.flat(new double[13])), null, null)));
    assertFalse(b.add(CtrLikeRows.row(2, new double[12], new double[26])));
    double[] badIds = new double[26];
    badIds[5] = 0.5;
    assertFalse(b.add(CtrLikeRows.row(3, new double[13], badIds)));

    ReferenceSketch sketch = b.build();
    assertEquals(50, sketch.rowsSeen());
    assertEquals(3, sketch.rowsSkipped());
    assertTrue(b.firstSkipReason().contains("sparse missing"), b.firstSkipReason());
  }

  @Test
  void no_fitting_row_is_an_error_naming_why() {
    ReferenceSketch.Builder b = ReferenceSketch.builder(CtrLikeRows.KINDS);
    b.add(x(1));

    var e = assertThrows(IllegalStateException.class, b::build);
    assertTrue(e.getMessage().contains("1 skipped"), e.getMessage());
  }

  @Test
  void too_many_columns_are_refused_with_the_bound_to_raise() {
    ReferenceSketch.Builder b = ReferenceSketch.builder(X_FLOAT).maxColumns(4);

    var e = assertThrows(IllegalArgumentException.class, () -> b.add(x(1, 2, 3, 4, 5)));
    assertTrue(e.getMessage().contains("raise maxColumns"), e.getMessage());
  }

  @Test
  void the_map_form_round_trips_through_json_text_and_stays_compact() throws Exception {
    ReferenceSketch sketch =
        ReferenceSketch.of(CtrLikeRows.KINDS, new CtrLikeRows().rows(10_000, 1));
    ObjectMapper json = new ObjectMapper();

    String text = json.writeValueAsString(sketch.toMap());
    @SuppressWarnings("unchecked")
    Map<String, Object> back = json.readValue(text, Map.class);

    assertEquals(sketch, ReferenceSketch.fromMap(sketch.toMap()));
    assertEquals(sketch, ReferenceSketch.fromMap(back));
    assertTrue(text.length() <= 50_000, text.length() + " chars of JSON");
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put(ReferenceSketch.METRICS_KEY, back);
    assertEquals(sketch, ReferenceSketch.fromMetrics(metrics).orElseThrow());
    assertTrue(ReferenceSketch.fromMetrics(Map.of("auc", 0.8)).isEmpty());
  }

  @Test
  void infinite_edges_survive_json() throws Exception {
    ReferenceSketch sketch =
        ReferenceSketch.of(
            X_FLOAT,
            column(Double.NEGATIVE_INFINITY, 1, 2, 3, 4, 5, 6, 7, 8, Double.POSITIVE_INFINITY));
    ObjectMapper json = new ObjectMapper();

    Map<?, ?> back = json.readValue(json.writeValueAsString(sketch.toMap()), Map.class);

    var col = (ColumnSketch.Quantiles) ReferenceSketch.fromMap(back).columns().get(0);
    assertEquals(Double.NEGATIVE_INFINITY, col.edges()[0]);
    assertEquals(sketch, ReferenceSketch.fromMap(back));
  }

  @Test
  void a_malformed_map_is_refused_naming_the_key() {
    Map<String, Object> m =
        new LinkedHashMap<>(ReferenceSketch.of(X_FLOAT, column(1, 2, 3)).toMap());
    m.put("format", 2);
    var e = assertThrows(IllegalArgumentException.class, () -> ReferenceSketch.fromMap(m));
    assertTrue(e.getMessage().startsWith("format : 2"), e.getMessage());

    m.put("format", 1);
    m.put(
        "columns",
        List.of(Map.of("name", "x[0]", "edges", List.of(2, 1), "shares", List.of(0.5, 0, 0.5))));
    e = assertThrows(IllegalArgumentException.class, () -> ReferenceSketch.fromMap(m));
    assertTrue(e.getMessage().contains("strictly increasing"), e.getMessage());

    m.put(
        "columns",
        List.of(Map.of("name", "y[0]", "edges", List.of(1), "shares", List.of(0.5, 0.5))));
    e = assertThrows(IllegalArgumentException.class, () -> ReferenceSketch.fromMap(m));
    assertTrue(e.getMessage().contains("expected: x[0]"), e.getMessage());
  }

  @Test
  void the_kind_of_a_column_follows_its_input() {
    ReferenceSketch sketch = ReferenceSketch.of(CtrLikeRows.KINDS, new CtrLikeRows().rows(100, 1));

    assertInstanceOf(ColumnSketch.Quantiles.class, sketch.column("dense[12]").orElseThrow());
    assertInstanceOf(ColumnSketch.TopIds.class, sketch.column("sparse[0]").orElseThrow());
    assertTrue(sketch.column("sparse[26]").isEmpty());
  }
}
