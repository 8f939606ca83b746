package ai.distill.optimizer.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PsiCalculatorTest {

  private static ReferenceSketch reference;

  @BeforeAll
  static void calibrate() {
    reference = ReferenceSketch.of(CtrLikeRows.KINDS, new CtrLikeRows().rows(10_000, 1));
  }

  @Test
  void psi_is_the_sum_over_bins_with_empty_bins_floored() {
    double expected = (0.2 - 0.5) * Math.log(0.2 / 0.5) + (0.8 - 0.5) * Math.log(0.8 / 0.5);
    assertEquals(
        expected, PsiCalculator.psi(new double[] {0.5, 0.5}, new double[] {0.2, 0.8}), 1e-12);
    double floored = (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    assertEquals(floored, PsiCalculator.psi(new double[] {0.5, 0.5}, new double[] {0, 1}), 1e-12);
    assertEquals(0.0, PsiCalculator.psi(new double[] {0, 1}, new double[] {0, 1}), 1e-12);
  }

  @Test
  void rows_from_the_same_distribution_stay_below_0_1_on_every_column() {
    DriftReport report = new PsiCalculator(reference).compute(new CtrLikeRows().rows(2_000, 99));

    assertEquals(2_000, report.rowsUsed());
    assertEquals(39, report.psi().size());
    report.psi().forEach((c, p) -> assertTrue(p < 0.1, c + " PSI " + p));
    assertTrue(report.max() < 0.1, "max " + report.max());
    assertTrue(report.mean() < report.max());
    assertFalse(report.exceeds(0.1));
  }

  @Test
  void a_float_column_shifted_by_three_quarters_of_a_sd_stands_out() {
    // deciles of a normal shifted by d sd give PSI ≈ 0.24 for d = 0.5 and ≈ 0.53 for d = 0.75
    DriftReport report =
        new PsiCalculator(reference).compute(new CtrLikeRows().shift(4, 0.75).rows(2_000, 99));

    assertTrue(report.psi().get("dense[4]") > 0.25, "dense[4] PSI " + report.psi().get("dense[4]"));
    assertEquals("dense[4]", report.maxColumn());
    assertEquals(List.of("dense[4]"), report.columnsAbove(0.1));
    assertTrue(report.exceeds(0.25));
  }

  @Test
  void half_a_sd_of_shift_is_a_moderate_drift() {
    DriftReport report =
        new PsiCalculator(reference).compute(new CtrLikeRows().shift(0, 0.5).rows(5_000, 99));

    double p = report.psi().get("dense[0]");
    assertTrue(p > 0.15 && p < 0.35, "dense[0] PSI " + p);
    assertEquals(List.of("dense[0]"), report.columnsAbove(0.1));
  }

  @Test
  void re_permuted_zipf_ids_stand_out_and_the_other_columns_do_not() {
    DriftReport report =
        new PsiCalculator(reference)
            .compute(new CtrLikeRows().repermute(3, 1234).repermute(20, 5678).rows(2_000, 99));

    assertTrue(
        report.psi().get("sparse[3]") > 0.25, "sparse[3] PSI " + report.psi().get("sparse[3]"));
    assertTrue(
        report.psi().get("sparse[20]") > 0.25, "sparse[20] PSI " + report.psi().get("sparse[20]"));
    assertEquals(List.of("sparse[3]", "sparse[20]"), report.columnsAbove(0.1));
  }

  @Test
  void a_constant_column_drifts_only_when_its_value_changes() {
    ReferenceSketch sketch = ReferenceSketch.of(Map.of("x", InputKind.FLOAT), constant(5.0, 1_000));
    PsiCalculator psi = new PsiCalculator(sketch);

    assertEquals(0.0, psi.compute(constant(5.0, 500)).max(), 1e-12);
    assertTrue(psi.compute(constant(6.0, 500)).max() > 5, "above");
    assertTrue(psi.compute(constant(4.0, 500)).max() > 5, "below");
  }

  @Test
  void rows_that_do_not_fit_are_counted_and_skipped_never_fatal() {
    List<Row> rows = new ArrayList<>(new CtrLikeRows().rows(2_000, 99));
    rows.add(new Row(1, Map.of("other", RowTensor.flat(1, 2)), null, null));
    rows.add(CtrLikeRows.row(2, new double[13], new double[3]));

    DriftReport report = new PsiCalculator(reference).compute(rows);

    assertEquals(2_000, report.rowsUsed());
    assertEquals(2, report.rowsSkipped());
    assertTrue(report.firstSkipReason().contains("dense missing"), report.firstSkipReason());
    assertTrue(report.max() < 0.1);
  }

  @Test
  void no_fitting_rows_give_an_empty_verdict_not_a_zero() {
    DriftReport report = new PsiCalculator(reference).compute(List.of());

    assertEquals(0, report.rowsUsed());
    assertTrue(Double.isNaN(report.max()));
    assertTrue(Double.isNaN(report.psi().get("dense[0]")));
    assertNull(report.maxColumn());
    assertFalse(report.exceeds(0.25));
    assertNull(report.toMap().get("max"));
  }

  @Test
  void psi_is_the_same_after_the_sketch_goes_through_a_map_and_json_text() throws Exception {
    List<Row> recent = new CtrLikeRows().shift(2, 1.0).repermute(7, 42).rows(3_000, 5);
    ObjectMapper json = new ObjectMapper();
    Map<?, ?> parsed = json.readValue(json.writeValueAsString(reference.toMap()), Map.class);

    DriftReport direct = new PsiCalculator(reference).compute(recent);
    DriftReport viaMap =
        new PsiCalculator(ReferenceSketch.fromMap(reference.toMap())).compute(recent);
    DriftReport viaJson = new PsiCalculator(ReferenceSketch.fromMap(parsed)).compute(recent);

    assertEquals(direct, viaMap);
    assertEquals(direct, viaJson);
    assertTrue(direct.psi().get("dense[2]") > 0.25);
  }

  @Test
  void an_accumulator_counts_rows_one_at_a_time() {
    PsiCalculator psi = new PsiCalculator(reference);
    PsiCalculator.Accumulator acc = psi.accumulator();
    List<Row> rows = new CtrLikeRows().rows(2_000, 99);
    rows.forEach(acc::add);

    assertEquals(2_000, acc.rowsUsed());
    assertEquals(psi.compute(rows), acc.report());
  }

  private static List<Row> constant(double value, int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new Row(i + 1, Map.of("x", RowTensor.flat(value)), null, null));
    }
    return rows;
  }
}
