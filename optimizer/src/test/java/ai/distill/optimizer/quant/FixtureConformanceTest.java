package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Conformance on ../shared/fixtures/ctr-mlp-torch (a PyTorch-exported CTR model); skipped when
 * absent.
 */
class FixtureConformanceTest {

  private static Path fixture;
  private static List<Row> rows;

  @BeforeAll
  static void locate() {
    String shared = System.getProperty("distill.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "fixtures", "ctr-mlp-torch");
    if (dir != null
        && Files.exists(dir.resolve("model.onnx"))
        && Files.exists(dir.resolve("rows.jsonl"))) {
      fixture = dir;
      rows = Quantizer.readRows(dir.resolve("rows.jsonl"), 0);
    }
  }

  @BeforeEach
  void requireFixture() {
    Assumptions.assumeTrue(
        fixture != null,
        "fixture ctr-mlp-torch not found under distill.shared.dir="
            + System.getProperty("distill.shared.dir")
            + "; skipping conformance (pass -Ddistill.shared.dir=...)");
  }

  @Test
  void ort_reproduces_the_pytorch_outputs() throws Exception {
    List<Row> some = rows.subList(0, 500);
    OnnxModel model = OnnxModel.load(fixture.resolve("model.onnx"));
    float[] p =
        Evaluator.predict(
            model.toBytes(), TestRows.table(model, some), "prob", TableScorer.Options.defaults());
    for (int i = 0; i < p.length; i++) {
      assertEquals(
          some.get(i).extra().get("teacher").asDouble(), p[i], 1e-4, "row " + some.get(i).line());
    }
  }

  @Test
  void quantized_fixture_meets_the_gate_forms_integer_kernels_and_shrinks() throws Exception {
    QuantizeOptions o = QuantizeOptions.builder().speedCheck(false).sensitivityRows(1000).build();
    Quantizer.Split split = Quantizer.split(rows, o);
    assertTrue(split.calibration().size() >= 1000);
    QuantizeResult r =
        Quantizer.quantize(
            OnnxModel.load(fixture.resolve("model.onnx")), split.calibration(), split.heldOut(), o);
    QuantizeReport rep = r.report();
    System.out.print(rep.toTable());
    assertTrue(rep.gatePassed());
    assertTrue(Math.abs(rep.comparison().aucDelta()) <= 0.002, rep.toTable());
    assertTrue(Math.abs(rep.comparison().meanPredictionRelativeChange()) <= 0.01, rep.toTable());
    assertTrue(rep.kernels().ops().getOrDefault("QGemm", 0) >= 4, rep.toTable());
    assertEquals(0, rep.kernels().floatMatmuls(), rep.toTable());
    assertTrue(rep.sizeRatio() <= 0.3, rep.toTable());
  }
}
