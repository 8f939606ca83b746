package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.drift.DriftReport;
import ai.distill.optimizer.drift.PsiCalculator;
import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.eval.EvalReport;
import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accuracy gate when the held-out rows have no (or too few) labels, and the calibration sketch.
 */
class LabelFreeGateTest {

  private static QuantizeOptions.Builder fast() {
    return QuantizeOptions.builder().speedCheck(false).method(CalibrationMethod.MINMAX);
  }

  private static List<Row> unlabelled(List<Row> rows) {
    return rows.stream().map(r -> new Row(r.line(), r.inputs(), null, null)).toList();
  }

  // ---- AccuracyGate with test doubles ----

  private static final OnnxModel BASE = TinyModels.mlp(2, new int[] {2}, 1);
  private static final Function<Set<String>, OnnxModel> BUILD =
      fp32 -> BASE.withMetadata("fp32", String.join(",", new TreeSet<>(fp32)));

  private static final float[] SOURCE = new float[200];

  static {
    for (int i = 0; i < SOURCE.length; i++) {
      SOURCE[i] = 0.02f + 0.96f * i / SOURCE.length;
    }
  }

  /**
   * Candidate scores: the source's reversed (broken) until layer "b" is in FP32, then the source's
   * plus noise.
   */
  private static AccuracyGate.Evaluation evaluate(OnnxModel m) {
    boolean fixed = m.metadata().getOrDefault("fp32", "").contains("b");
    float[] c = new float[SOURCE.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = fixed ? SOURCE[i] + (i % 2 == 0 ? 1e-4f : -1e-4f) : SOURCE[SOURCE.length - 1 - i];
    }
    EvalReport r = new EvalReport(c.length, 0, Double.NaN, Double.NaN, 0.5, Double.NaN);
    return new AccuracyGate.Evaluation(
        new ModelComparison(r, r, 0, 0, 0), LabelFreeComparison.of(SOURCE, c));
  }

  private static LayerReport layer(String name, double meanAbsAlone) {
    return new LayerReport(
        name, "Gemm", name + ".weight", 30, Double.NaN, 0, meanAbsAlone, true, "");
  }

  @Test
  void label_free_gate_reverts_by_the_label_free_metric_until_it_holds() {
    List<LayerReport> layers = List.of(layer("a", 0.001), layer("b", 0.2), layer("c", 0.01));
    List<String> lines = new ArrayList<>();
    AccuracyGate.Outcome o =
        AccuracyGate.labelFree(LabelFreeComparison.Bounds.DEFAULTS, 8)
            .enforceOn(
                BUILD.apply(Set.of()),
                BUILD,
                layers,
                LabelFreeGateTest::evaluate,
                ProgressListener.lines(lines::add));
    assertEquals(List.of("b"), o.fellBack());
    assertEquals("label_free", o.verdict().mode());
    assertTrue(o.verdict().passed());
    assertTrue(o.reasons().get("b").contains("Spearman rank agreement"), o.reasons().toString());
    assertTrue(lines.get(0).startsWith("label-free gate failed ("), lines.toString());
  }

  @Test
  void label_free_gate_refuses_a_broken_candidate_naming_the_violated_bounds() {
    List<LayerReport> layers = List.of(layer("a", 0.001), layer("b", 0.0001), layer("c", 0.01));
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                AccuracyGate.labelFree(LabelFreeComparison.Bounds.DEFAULTS, 1)
                    .enforceOn(
                        BUILD.apply(Set.of()),
                        BUILD,
                        layers,
                        LabelFreeGateTest::evaluate,
                        ProgressListener.NONE));
    assertEquals(QuantizationException.Reason.ACCURACY_GATE, e.reason());
    assertTrue(e.getMessage().startsWith("label-free accuracy gate failed"), e.getMessage());
    assertTrue(e.getMessage().contains("Spearman rank agreement -1 < 0.98"), e.getMessage());
    assertTrue(e.getMessage().contains("soft AUC gap"), e.getMessage());
    assertTrue(e.getMessage().contains("after reverting [c] to FP32"), e.getMessage());
  }

  @Test
  void the_label_free_gate_needs_the_label_free_comparison() {
    EvalReport r = new EvalReport(10, 0, Double.NaN, Double.NaN, 0.5, Double.NaN);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AccuracyGate.labelFree(LabelFreeComparison.Bounds.DEFAULTS, 1)
                .judge(new AccuracyGate.Evaluation(new ModelComparison(r, r, 0, 0, 1), null)));
  }

  // ---- Quantizer and QuantizeJob end to end ----

  @Test
  void unlabelled_held_out_rows_get_the_label_free_gate_and_it_refuses_a_fragile_int8_model() {
    List<Row> rows = unlabelled(QuantizerTest.fragileRows(1200, 1));
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                Quantizer.quantize(
                    QuantizerTest.fragile(),
                    rows.subList(0, 400),
                    rows.subList(400, 1200),
                    fast().maxFallbacks(0).build()));
    assertEquals(QuantizationException.Reason.ACCURACY_GATE, e.reason());
    assertTrue(
        e.getMessage()
            .startsWith(
                "label-free accuracy gate failed (held-out rows without enough labels: 0"
                    + " labelled of 800"),
        e.getMessage());
    assertTrue(e.getMessage().contains(" > ") || e.getMessage().contains(" < "), e.getMessage());
  }

  @Test
  void unlabelled_held_out_rows_revert_the_fragile_layer_and_record_the_label_free_gate() {
    List<Row> rows = unlabelled(QuantizerTest.fragileRows(1200, 1));
    QuantizeReport rep =
        Quantizer.quantize(
                QuantizerTest.fragile(),
                rows.subList(0, 400),
                rows.subList(400, 1200),
                fast().build())
            .report();
    assertEquals(List.of("gemm_0"), rep.fellBack(), rep.toTable());
    assertEquals("label_free", rep.gate().mode());
    @SuppressWarnings("unchecked")
    Map<String, Object> gate = (Map<String, Object>) rep.toMap().get("gate");
    assertEquals("label_free", gate.get("mode"));
    assertEquals(true, gate.get("passed"));
    assertTrue(((Number) gate.get("spearman")).doubleValue() >= 0.98, gate.toString());
    assertTrue(((Number) gate.get("soft_auc_gap")).doubleValue() <= 0.002, gate.toString());
    assertTrue(rep.toTable().contains("label-free gate (int8 vs fp32 scores"), rep.toTable());
  }

  @Test
  void labelled_held_out_rows_keep_the_labelled_gate() {
    List<Row> rows = QuantizerTest.fragileRows(1200, 1);
    QuantizeReport rep =
        Quantizer.quantize(
                QuantizerTest.fragile(),
                rows.subList(0, 400),
                rows.subList(400, 1200),
                fast().maxAucDrop(0.01).maxMeanShift(0.05).build())
            .report();
    assertEquals("labelled", rep.gate().mode());
    assertEquals(List.of("gemm_0"), rep.fellBack());
    assertTrue(rep.gate().numbers().containsKey("auc_delta"), rep.gate().toString());
  }

  @Test
  void too_few_labelled_held_out_rows_fall_back_to_the_label_free_gate() {
    List<Row> all = QuantizerTest.fragileRows(1200, 1);
    List<Row> held = new ArrayList<>(unlabelled(all.subList(400, 1200)));
    for (int i = 0; i < 150; i++) {
      held.set(
          i, all.get(400 + i)); // 150 labelled rows: fewer than the 200 the labelled gate needs
    }
    QuantizeReport rep =
        Quantizer.quantize(QuantizerTest.fragile(), all.subList(0, 400), held, fast().build())
            .report();
    assertEquals("label_free", rep.gate().mode());
  }

  private static Path writeRows(Path file, List<Row> rows) throws Exception {
    List<String> lines = new ArrayList<>();
    for (Row r : rows) {
      lines.add("{\"inputs\": {\"x\": " + Arrays.toString(r.input("x").values()) + "}}");
    }
    return Files.write(file, lines);
  }

  @Test
  void a_failed_label_free_gate_publishes_nothing(@TempDir Path dir) throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(PublishRequest.fromBytes("f", QuantizerTest.fragile().toBytes(), Role.TEACHER));
    Path rows = writeRows(dir.resolve("rows.jsonl"), QuantizerTest.fragileRows(1200, 1));
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                QuantizeJob.run(
                    store,
                    new QuantizeJob.Request("f", rows, "f-int8", fast().maxFallbacks(0).build()),
                    ProgressListener.NONE));
    assertTrue(e.getMessage().startsWith("label-free accuracy gate failed"), e.getMessage());
    assertEquals(List.of("f"), store.modelNames());
  }

  @Test
  void the_published_manifest_holds_the_gate_and_a_sketch_of_the_calibration_rows(@TempDir Path dir)
      throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "mlp", TinyModels.mlp(4, new int[] {8}, 1).toBytes(), Role.TEACHER));
    List<Row> rows = unlabelled(TestRows.gaussian("x", 4, 800, 1));
    Path file = writeRows(dir.resolve("rows.jsonl"), rows);
    QuantizeJob.Outcome o =
        QuantizeJob.run(
            store,
            new QuantizeJob.Request("mlp", file, "mlp-int8", fast().calibrationRows(300).build()),
            ProgressListener.NONE);
    @SuppressWarnings("unchecked")
    Map<String, Object> summaryGate = (Map<String, Object>) o.summary().get("gate");
    assertEquals("label_free", summaryGate.get("mode"));
    assertEquals(true, summaryGate.get("passed"));

    ModelVersion v = store.resolve("mlp-int8");
    @SuppressWarnings("unchecked")
    Map<String, Object> gate = (Map<String, Object>) v.manifest().metrics().get("gate");
    assertEquals("label_free", gate.get("mode"));
    assertNotNull(gate.get("soft_auc_gap"));
    ReferenceSketch sketch = ReferenceSketch.fromMetrics(v.manifest().metrics()).orElseThrow();
    assertEquals(300, sketch.rowsSeen());
    assertEquals(4, sketch.columns().size());
    DriftReport same = new PsiCalculator(sketch).compute(rows.subList(0, 300));
    assertTrue(same.max() < 0.01, same.toString());
    List<Row> shifted =
        rows.subList(0, 300).stream()
            .map(
                r ->
                    TestRows.row(
                        r.line(),
                        null,
                        Map.of(
                            "x",
                            TestRows.tensor(
                                Arrays.stream(r.input("x").values()).map(x -> x + 2).toArray()))))
            .toList();
    assertFalse(new PsiCalculator(sketch).compute(shifted).max() < 0.25, "a shifted input drifts");
  }
}
