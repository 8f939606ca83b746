package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SensitivityAnalysisTest {

  @Test
  void reports_every_layer_in_order_with_its_sqnr_and_effect_alone() {
    OnnxModel m = TinyModels.mlp(4, new int[] {8}, 1);
    RowTable rows = TestRows.table(m, TestRows.gaussian("x", 4, 200, 2));
    List<QuantTarget> targets = QuantTarget.find(m);
    var ranges = QdqRewriterTest.calibrate(m, targets, TestRows.gaussian("x", 4, 200, 3));
    Function<Set<String>, OnnxModel> build =
        fp32 -> QdqRewriter.rewrite(m, targets, ranges, QuantizeOptions.defaults(), fp32);
    TableScorer.Options scoring = TableScorer.Options.defaults();
    float[] fp32 = Evaluator.predict(m.toBytes(), rows, "prob", scoring);
    List<String> lines = new ArrayList<>();
    List<LayerReport> layers =
        SensitivityAnalysis.run(
            m,
            build.apply(Set.of()),
            targets,
            build,
            rows,
            fp32,
            "prob",
            scoring,
            ProgressListener.lines(lines::add));
    assertEquals(
        targets.stream().map(QuantTarget::layer).toList(),
        layers.stream().map(LayerReport::layer).toList());
    for (LayerReport l : layers) {
      assertTrue(l.sqnrDb() > 10 && Double.isFinite(l.sqnrDb()), l.toString());
      assertTrue(l.meanAbsDiffAlone() > 0 && l.meanAbsDiffAlone() < 0.05, l.toString());
      assertTrue(l.quantized());
    }
    assertEquals("sensitivity: layer 2/2 " + targets.get(1).layer(), lines.get(lines.size() - 1));
  }

  @Test
  void a_layer_left_in_fp32_changes_nothing() {
    OnnxModel m = TinyModels.mlp(4, new int[] {8}, 1);
    RowTable rows = TestRows.table(m, TestRows.gaussian("x", 4, 100, 2));
    List<QuantTarget> targets = QuantTarget.find(m);
    float[] fp32 = Evaluator.predict(m.toBytes(), rows, "prob", TableScorer.Options.defaults());
    List<LayerReport> layers =
        SensitivityAnalysis.run(
            m,
            m,
            targets,
            fp32Layers -> m,
            rows,
            fp32,
            "prob",
            TableScorer.Options.defaults(),
            ProgressListener.NONE);
    for (LayerReport l : layers) {
      assertEquals(0.0, l.meanAbsDiffAlone(), l.toString());
      assertEquals(Double.POSITIVE_INFINITY, l.sqnrDb(), l.toString());
    }
  }
}
