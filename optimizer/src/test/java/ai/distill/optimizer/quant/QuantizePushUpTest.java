package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QuantizeLinear after a Concat moves above it: on our writer's CTR model (8 lookups with a
 * table scale each, dense features as a graph input) and on the PyTorch-exported attention model
 * after lookup fusion, the Concat then reads 8-bit values only, ORT runs fewer Q/DQ nodes, the
 * outputs are those of the QDQ graph it starts from (the rewrite is exact) and onnx.checker accepts
 * the result.
 */
class QuantizePushUpTest {

  private static OnnxModel ctrQdq;
  private static OnnxModel attentionQdq;
  private static List<Row> ctrRows;
  private static List<Row> attentionRows;

  @BeforeAll
  static void quantize() throws Exception {
    OnnxModel ctr = TinyModels.ctrModel(4, 8, 50, 6, new int[] {32, 16}, 3);
    ctrRows = TestRows.ctr(4, 8, 50, 300, 5);
    ctrQdq = qdq(ctr, ctrRows.subList(0, 150));
    OnnxModel attention = LookupFusion.apply(OnnxModel.load(IntegerDomainTest.attentionModel()));
    attentionRows = TestRows.ctr(13, 26, 1000, 300, 15);
    attentionQdq = qdq(attention, attentionRows.subList(0, 150));
  }

  private static OnnxModel qdq(OnnxModel fp32, List<Row> calibration) {
    List<QuantTarget> targets = QuantTarget.find(fp32);
    return QdqRewriter.rewrite(
        fp32,
        targets,
        QdqRewriterTest.calibrate(fp32, targets, calibration),
        QuantizeOptions.defaults(),
        Set.of());
  }

  @Test
  void the_quantize_after_the_concat_is_the_only_candidate() {
    List<String> c = QuantizePushUp.candidates(ctrQdq);
    assertEquals(1, c.size(), c.toString());
    NodeProto q = ctrQdq.producers().get(c.get(0));
    assertEquals("QuantizeLinear", q.getOpType());
    assertEquals("Concat", ctrQdq.producers().get(q.getInput(0)).getOpType());
  }

  @Test
  void concat_of_lookups_and_dense_inputs_runs_on_8_bit_values_with_the_same_outputs() {
    OnnxModel pushed = QuantizePushUp.apply(ctrQdq, QuantizePushUp.candidates(ctrQdq).get(0));
    assertConcatReads8Bit(pushed);
    // the 8 table DequantizeLinears and the QuantizeLinear before the first QGemm are gone at run
    // time: only the dense input's QuantizeLinear is left
    assertEquals(9, QuantizePushUp.roundTrips(ctrQdq, QuantizeOptions.defaults()));
    assertEquals(1, QuantizePushUp.roundTrips(pushed, QuantizeOptions.defaults()));
    assertSameOutputs(ctrQdq, pushed, ctrRows.subList(150, 300));
    assertTrue(QuantizePushUp.candidates(pushed).isEmpty(), "nothing left to move");
  }

  @Test
  void lookups_in_4_bit_tables_decoded_at_load_run_on_8_bit_tables_with_the_same_outputs() {
    OnnxModel ctr = TinyModels.ctrModel(4, 8, 50, 6, new int[] {32, 16}, 3);
    List<QuantTarget> targets = QuantTarget.find(ctr);
    OnnxModel q4 =
        QdqRewriter.rewrite(
            ctr,
            targets,
            QdqRewriterTest.calibrate(ctr, targets, ctrRows.subList(0, 150)),
            QuantizeOptions.builder().embeddingBits(4).build(),
            Set.of());
    OnnxModel pushed = QuantizePushUp.apply(q4, QuantizePushUp.candidates(q4).get(0));
    assertConcatReads8Bit(pushed);
    // the tables' QuantizeLinears are folded when ORT loads the model: only the dense one runs
    assertEquals(1, QuantizePushUp.roundTrips(pushed, QuantizeOptions.defaults()));
    assertSameOutputs(q4, pushed, ctrRows.subList(150, 300));
  }

  @Test
  void attention_model_concat_runs_on_8_bit_values_with_the_same_outputs() {
    List<String> c = QuantizePushUp.candidates(attentionQdq);
    assertEquals(1, c.size(), c.toString());
    OnnxModel pushed = QuantizePushUp.apply(attentionQdq, c.get(0));
    assertConcatReads8Bit(pushed);
    assertTrue(
        QuantizePushUp.roundTrips(pushed, QuantizeOptions.defaults())
            < QuantizePushUp.roundTrips(attentionQdq, QuantizeOptions.defaults()));
    assertSameOutputs(attentionQdq, pushed, attentionRows.subList(150, 300));
  }

  @Test
  void a_push_up_that_is_not_faster_is_not_taken() {
    PropagationSearch.Outcome out =
        QuantizePushUp.search(
            ctrQdq,
            TestRows.table(ctrQdq, ctrRows.subList(150, 300)),
            m -> new GateVerdict("labelled", true, Map.of(), List.of()),
            1e6, // nothing runs a million times faster
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    assertSame(ctrQdq, out.model());
    assertFalse(out.decisions().get(0).taken());
    assertTrue(out.decisions().get(0).reason().startsWith("not faster"));
  }

  @Test
  void a_push_up_that_fails_the_gate_is_not_taken_and_one_that_passes_is() {
    PropagationSearch.Outcome failed =
        QuantizePushUp.search(
            ctrQdq,
            TestRows.table(ctrQdq, ctrRows.subList(150, 300)),
            m -> new GateVerdict("labelled", false, Map.of(), List.of("dAUC too large")),
            0,
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    assertSame(ctrQdq, failed.model());
    assertTrue(failed.decisions().get(0).reason().contains("dAUC too large"));
    PropagationSearch.Outcome passed =
        QuantizePushUp.search(
            ctrQdq,
            TestRows.table(ctrQdq, ctrRows.subList(150, 300)),
            m -> new GateVerdict("labelled", true, Map.of(), List.of()),
            0,
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    assertNotSame(ctrQdq, passed.model());
    assertTrue(passed.decisions().get(0).taken(), passed.decisions().toString());
    assertConcatReads8Bit(passed.model());
  }

  @Test
  void pushed_models_pass_onnx_checker(@TempDir Path dir) throws Exception {
    QdqRewriterTest.assertCheckerAccepts(
        dir,
        List.of(
            QuantizePushUp.apply(ctrQdq, QuantizePushUp.candidates(ctrQdq).get(0)),
            QuantizePushUp.apply(attentionQdq, QuantizePushUp.candidates(attentionQdq).get(0))));
  }

  /**
   * Some Concat's result goes (through shape-only ops) into a DequantizeLinear, and each such
   * Concat reads only QuantizeLinear or 8-bit Gather outputs (through shape-only ops).
   */
  private static void assertConcatReads8Bit(OnnxModel m) {
    Map<String, NodeProto> producers = m.producers();
    Map<String, List<NodeProto>> consumers = m.consumers();
    int checked = 0;
    for (NodeProto n : m.nodes()) {
      if (!n.getOpType().equals("Concat")) {
        continue;
      }
      List<NodeProto> next = consumers.getOrDefault(n.getOutput(0), List.of());
      while (next.size() == 1 && QuantizePushUp.SHAPE_ONLY.contains(next.get(0).getOpType())) {
        next = consumers.getOrDefault(next.get(0).getOutput(0), List.of());
      }
      if (next.size() != 1 || !next.get(0).getOpType().equals("DequantizeLinear")) {
        continue;
      }
      checked++;
      for (String in : n.getInputList()) {
        NodeProto p = producers.get(in);
        while (p != null && QuantizePushUp.SHAPE_ONLY.contains(p.getOpType())) {
          p = producers.get(p.getInput(0));
        }
        assertTrue(
            p != null && Set.of("QuantizeLinear", "Gather").contains(p.getOpType()),
            n.getName()
                + " reads "
                + in
                + " from "
                + (p == null ? "a graph input" : p.getOpType()));
      }
    }
    assertTrue(checked > 0, "no Concat on 8-bit values");
  }

  /** The rewrite computes the same integers: outputs equal up to float rounding. */
  private static void assertSameOutputs(OnnxModel a, OnnxModel b, List<Row> rows) {
    ModelComparison c =
        Evaluator.compare(
            a.toBytes(),
            b.toBytes(),
            TestRows.table(a, rows),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.maxAbsDiff() < 1e-5, "max |diff| " + c.maxAbsDiff());
  }
}
