package ai.distill.optimizer.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.EvalReport;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TableScorerTest {

  private static OnnxModel linear() {
    return GraphBuilder.create("g")
        .input("x", DataType.FLOAT, -1, 2)
        .initializer("w", new float[] {1, 2}, 1, 2)
        .initializer("b", new float[] {0.5f}, 1)
        .gemm("x", "w", "b", "y", true)
        .output("y", DataType.FLOAT, -1, 1)
        .build();
  }

  @Test
  void scores_rows_in_batches_in_order() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      rows.add(TestRows.row(i + 1, null, Map.of("x", TestRows.tensor(i, 1))));
    }
    try (TableScorer s =
        TableScorer.open(linear().toBytes(), TableScorer.Options.defaults().withBatchSize(3))) {
      float[] y = s.score(TestRows.table(linear(), rows), "y");
      assertArrayEquals(new float[] {2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f, 8.5f}, y, 1e-6f);
    }
  }

  @Test
  void mismatched_row_names_row_and_input() {
    List<Row> rows =
        List.of(
            TestRows.row(1, null, Map.of("x", TestRows.tensor(1, 2))),
            TestRows.row(2, null, Map.of("x", TestRows.tensor(1, 2, 3))));
    RowSignatureException e =
        assertThrows(RowSignatureException.class, () -> TestRows.table(linear(), rows));
    assertEquals(
        "row 2: input 'x' has 3 values, shape [3] (expected: 2 values, shape [2])", e.getMessage());
    RowSignatureException missing =
        assertThrows(
            RowSignatureException.class,
            () ->
                TestRows.table(
                    linear(), List.of(TestRows.row(5, null, Map.of("z", TestRows.tensor(1, 2))))));
    assertTrue(
        missing.getMessage().startsWith("row 5: input 'x' is missing"), missing.getMessage());
    assertEquals(5, missing.row());
    assertEquals("x", missing.input());
  }

  @Test
  void every_dtype_is_fed_from_rows() {
    Map<String, ai.distill.store.rows.RowTensor> in = new java.util.LinkedHashMap<>();
    for (String n : List.of("f32", "f64", "i32", "i64", "i8", "u8", "flag")) {
      in.put(n, TestRows.tensor(1, 0));
    }
    in.put("u8", TestRows.tensor(200, 0));
    in.put("i8", TestRows.tensor(-3, 0));
    OnnxModel m = TinyModels.multiTypes(2);
    try (TableScorer s = TableScorer.open(m.toBytes(), TableScorer.Options.defaults())) {
      Map<String, float[][]> out =
          s.scoreAll(TestRows.table(m, List.of(TestRows.row(1, null, in))));
      assertArrayEquals(new float[] {202, 0}, out.get("sum")[0]);
      assertArrayEquals(new float[] {202, 0}, out.get("sum_i64")[0]);
    }
  }

  @Test
  void
      a_table_without_a_model_input_or_an_unknown_output_is_a_scoring_exception_naming_the_model() {
    RowTable other =
        RowTable.of(
            List.of(new RowTable.Column("z", ai.onnxruntime.OnnxJavaType.FLOAT, new int[] {2})),
            1,
            new Object[] {new float[] {1, 2}},
            null);
    try (TableScorer s =
        TableScorer.open(linear().toBytes(), "model g:1", TableScorer.Options.defaults())) {
      ScoringException e = assertThrows(ScoringException.class, () -> s.score(other));
      assertEquals("model g:1 input 'x' is not among the rows' inputs [z]", e.getMessage());
      ScoringException o =
          assertThrows(
              ScoringException.class,
              () -> s.score(TestRows.table(linear(), TestRows.gaussian("x", 2, 3, 1)), "nope"));
      assertEquals("model g:1 has no output 'nope' (expected one of [y])", o.getMessage());
    }
    ScoringException load =
        assertThrows(
            ScoringException.class,
            () ->
                TableScorer.open(
                    new byte[] {1, 2, 3}, "model bad:1", TableScorer.Options.defaults()));
    assertTrue(
        load.getMessage().startsWith("model bad:1 cannot be loaded by ONNX Runtime: "),
        load.getMessage());
  }

  @Test
  void evaluator_reports_auc_and_compares_models() {
    OnnxModel ma = TinyModels.mlp(3, new int[] {4}, 1);
    byte[] a = ma.toBytes();
    byte[] b = TinyModels.mlp(3, new int[] {4}, 2).toBytes();
    RowTable rows = TestRows.table(ma, TestRows.gaussian("x", 3, 50, 7));
    EvalReport r = Evaluator.evaluate(a, rows, null, TableScorer.Options.defaults());
    assertEquals(50, r.rows());
    assertTrue(r.auc() >= 0 && r.auc() <= 1);
    ModelComparison same = Evaluator.compare(a, a, rows, "prob", TableScorer.Options.defaults());
    assertEquals(0.0, same.maxAbsDiff());
    ModelComparison diff = Evaluator.compare(a, b, rows, "prob", TableScorer.Options.defaults());
    assertTrue(diff.maxAbsDiff() > 0 && diff.meanAbsDiff() <= diff.maxAbsDiff());
  }
}
