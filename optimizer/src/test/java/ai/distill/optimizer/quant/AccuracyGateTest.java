package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.EvalReport;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.job.JobCancelledException;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class AccuracyGateTest {

  private static final OnnxModel BASE = TinyModels.mlp(2, new int[] {2}, 1);

  private static ModelComparison comparison(double aucDelta, double meanShift) {
    EvalReport ref = new EvalReport(100, 100, 0.8, 0.4, 0.5, 0.5);
    EvalReport cand = new EvalReport(100, 100, 0.8 + aucDelta, 0.4, 0.5 * (1 + meanShift), 0.5);
    return new ModelComparison(ref, cand, 0.1, 0.01, 0.99);
  }

  private static LayerReport layer(String name, double aucAlone) {
    return new LayerReport(name, "Gemm", name + ".weight", 30, aucAlone, 0, 0.001, true, "");
  }

  /** The model with the given layers in FP32, marked so that {@link #evaluate} can tell which. */
  private static final Function<Set<String>, OnnxModel> BUILD =
      fp32 -> BASE.withMetadata("fp32", String.join(",", new TreeSet<>(fp32)));

  /** Fails the gate (dAUC -0.01) until layer "b" is in FP32. */
  private static ModelComparison evaluate(OnnxModel m) {
    String fp32 = m.metadata().getOrDefault("fp32", "");
    return fp32.contains("b") ? comparison(-0.0005, 0) : comparison(-0.01, 0);
  }

  @Test
  void passes_within_both_bounds_and_skips_an_undefined_auc() {
    AccuracyGate gate = new AccuracyGate(0.002, 0.01, 8);
    assertTrue(gate.passes(comparison(-0.001, 0.005)));
    assertFalse(gate.passes(comparison(-0.003, 0)));
    assertFalse(gate.passes(comparison(0, 0.02)));
    assertTrue(gate.passes(comparison(Double.NaN, 0.005)));
  }

  @Test
  void reverts_the_most_sensitive_layer_first_until_the_gate_holds() {
    List<LayerReport> layers = List.of(layer("a", -0.001), layer("b", -0.05), layer("c", -0.01));
    List<String> lines = new ArrayList<>();
    AccuracyGate.Outcome o =
        new AccuracyGate(0.002, 0.01, 8)
            .enforce(
                BUILD.apply(Set.of()),
                BUILD,
                layers,
                AccuracyGateTest::evaluate,
                ProgressListener.lines(lines::add));
    assertEquals(List.of("b"), o.fellBack());
    assertEquals("b", o.model().metadata().get("fp32"));
    assertTrue(
        o.reasons().get("b").startsWith("gate failed with it int8: dAUC -0.01000"),
        o.reasons().toString());
    assertEquals(List.of("gate failed (dAUC -0.01000); reverting b to FP32"), lines);
  }

  @Test
  void fails_with_accuracy_gate_after_the_allowed_fallbacks() {
    List<LayerReport> layers = List.of(layer("a", -0.001), layer("b", -0.0001), layer("c", -0.01));
    QuantizationException e =
        assertThrows(
            QuantizationException.class,
            () ->
                new AccuracyGate(0.002, 0.01, 1)
                    .enforce(
                        BUILD.apply(Set.of()),
                        BUILD,
                        layers,
                        AccuracyGateTest::evaluate,
                        ProgressListener.NONE));
    assertEquals(QuantizationException.Reason.ACCURACY_GATE, e.reason());
    assertTrue(e.getMessage().contains("after reverting [c] to FP32"), e.getMessage());
  }

  @Test
  void stops_when_cancelled() {
    ProgressListener cancelled =
        new ProgressListener() {
          @Override
          public void progress(String stage, double fraction, String message) {}

          @Override
          public boolean cancelRequested() {
            return true;
          }
        };
    List<LayerReport> layers = List.of(layer("a", -0.001), layer("b", -0.05));
    JobCancelledException e =
        assertThrows(
            JobCancelledException.class,
            () ->
                new AccuracyGate(0.002, 0.01, 8)
                    .enforce(
                        BUILD.apply(Set.of()),
                        BUILD,
                        layers,
                        AccuracyGateTest::evaluate,
                        cancelled));
    assertEquals("gate", e.stage());
  }

  @Test
  void without_labels_the_order_follows_the_mean_absolute_change() {
    LayerReport small = new LayerReport("s", "Gemm", "w", 30, Double.NaN, 0, 0.001, true, "");
    LayerReport large = new LayerReport("l", "Gemm", "w", 30, Double.NaN, 0, 0.1, true, "");
    assertEquals(List.of(large, small), AccuracyGate.revertOrder(List.of(small, large), false));
  }
}
