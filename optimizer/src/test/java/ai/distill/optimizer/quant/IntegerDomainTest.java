package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QdqPropagation.Candidate;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integer-domain propagation on the committed PyTorch-exported attention CTR model
 * (src/test/resources/attention-ctr, built by optimizer/scripts/attention_ctr.py): each rewrite
 * alone forms the integer kernel it claims, stays within the quantization error of the QDQ model it
 * starts from, and passes onnx.checker; the search never takes a candidate that is not faster.
 */
class IntegerDomainTest {

  private static OnnxModel fp32;
  private static OnnxModel qdq;
  private static List<Row> calibration;
  private static List<Row> check;
  private static List<Candidate> candidates;
  private static Map<String, Range> ranges;

  @BeforeAll
  static void quantizeOnce() throws Exception {
    fp32 = OnnxModel.load(attentionModel());
    List<Row> rows = TestRows.ctr(13, 26, 1000, 400, 15);
    calibration = rows.subList(0, 200);
    check = rows.subList(200, 400);
    List<QuantTarget> targets = QuantTarget.find(fp32);
    qdq =
        QdqRewriter.rewrite(
            fp32,
            targets,
            QdqRewriterTest.calibrate(fp32, targets, calibration),
            QuantizeOptions.defaults(),
            Set.of());
    candidates = QdqPropagation.find(fp32);
    ranges = new LinkedHashMap<>();
    Calibrator.collect(
            fp32,
            QdqPropagation.tensorsOf(candidates),
            TestRows.table(fp32, calibration),
            2048,
            1,
            ProgressListener.NONE)
        .forEach((k, h) -> ranges.put(k, CalibrationMethod.MINMAX.range(h, 99.999)));
  }

  static Path attentionModel() throws URISyntaxException {
    return Path.of(IntegerDomainTest.class.getResource("/attention-ctr/model.onnx").toURI());
  }

  @Test
  void finds_the_float_ops_and_not_the_shape_arithmetic() {
    Map<String, Long> byOp = new LinkedHashMap<>();
    candidates.forEach(c -> byOp.merge(c.op(), 1L, Long::sum));
    // 1 Concat of 27 tokens (the 12 Concats that build Reshape shapes are int64), 3 layers of
    // scores MatMul, scale Mul, Softmax, weighted-values MatMul and residual Add, the Sigmoid
    assertEquals(
        Map.of("Concat", 1L, "MatMul", 6L, "Mul", 3L, "Softmax", 3L, "Add", 3L, "Sigmoid", 1L),
        byOp);
  }

  @Test
  void lookup_fusion_keeps_the_float_outputs_and_drops_the_per_field_ops() {
    OnnxModel fused = LookupFusion.apply(fp32);
    ModelComparison c =
        Evaluator.compare(
            fp32.toBytes(),
            fused.toBytes(),
            TestRows.table(fp32, check),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.maxAbsDiff() < 1e-6, "max |diff| " + c.maxAbsDiff());
    Map<String, Integer> before = fp32.opCounts();
    Map<String, Integer> after = fused.opCounts();
    // 26 column Gathers + 26 table Gathers become 1 (all 26 columns in order: the ids are read as
    // they are); the 26 Unsqueezes of the lookups go
    assertEquals(before.get("Gather") - 51, after.get("Gather"));
    assertTrue(fused.nodes().stream().noneMatch(n -> n.getName().endsWith("_select")));
    assertEquals(before.get("Unsqueeze") - 26, after.get("Unsqueeze"));
    assertEquals(
        1,
        QuantTarget.find(fused).stream().filter(t -> t.kind() == QuantTarget.Kind.GATHER).count());
  }

  @Test
  void concat_of_lookups_runs_as_qlinear_concat() {
    rewriteAlone("/Concat", "QLinearConcat");
  }

  @Test
  void attention_scores_run_as_qlinear_matmul() {
    rewriteAlone("/att.0/MatMul", "QLinearMatMul");
  }

  @Test
  void weighted_values_run_as_qlinear_matmul() {
    rewriteAlone("/att.1/MatMul_1", "QLinearMatMul");
  }

  @Test
  void score_scaling_runs_as_qlinear_mul() {
    rewriteAlone("/att.0/Mul", "QLinearMul");
  }

  @Test
  void softmax_runs_as_qlinear_softmax_and_matches_its_qdq_reference() {
    // ORT's QLinearSoftmax assumes an output scale of 1/256: with the calibrated [0, 0.046] range
    // it moved this model's probabilities by 0.044 on average against the unfused QDQ graph
    OnnxModel next = rewriteAlone("/att.2/Softmax", "QLinearSoftmax");
    assertEquals(0, PropagationSearch.fusedDeviation(next, TestRows.table(fp32, check)), 0.001);
  }

  @Test
  void residual_add_runs_as_qlinear_add() {
    rewriteAlone("/att.0/Add", "QLinearAdd");
  }

  @Test
  void output_sigmoid_runs_as_qlinear_sigmoid_and_keeps_the_output_name() {
    OnnxModel next = rewriteAlone("/Sigmoid", "QLinearSigmoid");
    assertEquals("prob", next.outputs().get(0).name());
  }

  @Test
  void a_candidate_that_is_not_faster_is_not_taken() {
    Candidate concat = candidate("/Concat");
    PropagationSearch.Outcome out =
        PropagationSearch.run(
            qdq,
            List.of(concat),
            ranges,
            TestRows.table(fp32, check),
            m -> passing(),
            1e6, // nothing runs a million times faster: the measured speed-up never suffices
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    assertSame(qdq, out.model());
    PropagationSearch.Decision d = out.decisions().get(0);
    assertFalse(d.taken());
    assertEquals(Set.of("QLinearConcat"), d.kernels());
    assertTrue(d.reason().startsWith("not faster"), d.reason());
  }

  @Test
  void a_candidate_that_fails_the_gate_is_not_taken() {
    PropagationSearch.Outcome out =
        PropagationSearch.run(
            qdq,
            List.of(candidate("/Sigmoid")),
            ranges,
            TestRows.table(fp32, check),
            m -> new GateVerdict("labelled", false, Map.of(), List.of("dAUC too large")),
            0,
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    assertSame(qdq, out.model());
    assertTrue(out.decisions().get(0).reason().contains("dAUC too large"));
  }

  @Test
  void taken_candidates_form_every_kernel_they_claim() {
    List<Candidate> some =
        List.of(candidate("/Concat"), candidate("/att.0/Add"), candidate("/Sigmoid"));
    PropagationSearch.Outcome out =
        PropagationSearch.run(
            qdq,
            some,
            ranges,
            TestRows.table(fp32, check),
            m -> passing(),
            0, // any measured speed counts: the test is about what the kernel counter sees
            QuantizeOptions.defaults(),
            ProgressListener.NONE);
    Map<String, Integer> ops = KernelCounter.count(out.model().toBytes(), 1).ops();
    for (PropagationSearch.Decision d : out.decisions()) {
      assertTrue(d.taken(), d.toString());
      for (String k : d.kernels()) {
        assertTrue(ops.getOrDefault(k, 0) > 0, k + " missing from " + ops);
      }
    }
    assertWithinBound(qdq, out.model(), 0.03);
  }

  @Test
  void rewritten_models_pass_onnx_checker(@TempDir Path dir) throws Exception {
    OnnxModel all =
        QdqPropagation.apply(
            qdq, QdqPropagation.tensorsOf(candidates), ranges, QuantizeOptions.defaults());
    QdqRewriterTest.assertCheckerAccepts(dir, List.of(all));
  }

  @Test
  void applying_tensors_again_adds_nothing() {
    Set<String> tensors = QdqPropagation.tensorsOf(candidates);
    OnnxModel once = QdqPropagation.apply(qdq, tensors, ranges, QuantizeOptions.defaults());
    OnnxModel twice = QdqPropagation.apply(once, tensors, ranges, QuantizeOptions.defaults());
    assertEquals(once.graph().getNodeCount(), twice.graph().getNodeCount());
    assertWithinBound(qdq, twice, 0.1); // loads and runs in ORT
  }

  /** Applies one candidate to the QDQ model and checks kernel, error and output. */
  private static OnnxModel rewriteAlone(String layer, String kernel) {
    return rewriteAlone(layer, kernel, 0.02);
  }

  private static OnnxModel rewriteAlone(String layer, String kernel, double maxAbs) {
    Candidate c = candidate(layer);
    OnnxModel next =
        QdqPropagation.apply(qdq, Set.copyOf(c.tensors()), ranges, QuantizeOptions.defaults());
    int before = KernelCounter.count(qdq.toBytes(), 1).ops().getOrDefault(kernel, 0);
    Map<String, Integer> after = KernelCounter.count(next.toBytes(), 1).ops();
    assertTrue(after.getOrDefault(kernel, 0) > before, kernel + " not formed: " + after);
    assertWithinBound(qdq, next, maxAbs);
    return next;
  }

  /**
   * One more 8-bit rounding on a few tensors: the probabilities move far less than the QDQ model
   * moved from FP32.
   */
  private static void assertWithinBound(OnnxModel reference, OnnxModel candidate, double maxAbs) {
    ModelComparison c =
        Evaluator.compare(
            reference.toBytes(),
            candidate.toBytes(),
            TestRows.table(fp32, check),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.maxAbsDiff() < maxAbs, "max |diff| " + c.maxAbsDiff());
    assertTrue(c.meanAbsDiff() < maxAbs / 8, "mean |diff| " + c.meanAbsDiff());
  }

  private static Candidate candidate(String layer) {
    return candidates.stream().filter(c -> c.layer().equals(layer)).findFirst().orElseThrow();
  }

  private static GateVerdict passing() {
    return new GateVerdict("labelled", true, Map.of(), List.of());
  }
}
