package ai.distill.optimizer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RowsScorerTest {

    private static byte[] linear() {
        return GraphBuilder.create("g").input("x", DataType.FLOAT, -1, 2)
                .initializer("w", new float[] {1, 2}, 1, 2).initializer("b", new float[] {0.5f}, 1)
                .gemm("x", "w", "b", "y", true).output("y", DataType.FLOAT, -1, 1).toBytes();
    }

    @Test
    void scores_rows_in_batches_in_order() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            rows.add(TestRows.row(i + 1, null, Map.of("x", TestRows.tensor(i, 1))));
        }
        try (RowsScorer s = RowsScorer.open(linear(), RowsScorer.Options.defaults().withBatchSize(3))) {
            float[] y = s.score(rows, "y");
            assertArrayEquals(new float[] {2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f, 8.5f}, y, 1e-6f);
        }
    }

    @Test
    void mismatched_row_names_row_and_input() {
        List<Row> rows = List.of(TestRows.row(1, null, Map.of("x", TestRows.tensor(1, 2))),
                TestRows.row(2, null, Map.of("x", TestRows.tensor(1, 2, 3))));
        try (RowsScorer s = RowsScorer.open(linear(), RowsScorer.Options.defaults())) {
            RowSignatureException e = assertThrows(RowSignatureException.class, () -> s.score(rows, "y"));
            assertEquals("row 2: input 'x' has 3 values (expected: 2, shape [2] per row)", e.getMessage());
            RowSignatureException missing = assertThrows(RowSignatureException.class,
                    () -> s.score(List.of(TestRows.row(5, null, Map.of("z", TestRows.tensor(1, 2)))), "y"));
            assertTrue(missing.getMessage().startsWith("row 5: input 'x' is missing"), missing.getMessage());
        }
    }

    @Test
    void every_dtype_is_fed_from_rows() {
        Map<String, ai.distill.store.rows.RowTensor> in = new java.util.LinkedHashMap<>();
        for (String n : List.of("f32", "f64", "i32", "i64", "i8", "u8", "flag")) {
            in.put(n, TestRows.tensor(1, 0));
        }
        in.put("u8", TestRows.tensor(200, 0));
        in.put("i8", TestRows.tensor(-3, 0));
        try (RowsScorer s = RowsScorer.open(TinyModels.multiTypes(2).toBytes(), RowsScorer.Options.defaults())) {
            Map<String, float[][]> out = s.scoreAll(List.of(TestRows.row(1, null, in)));
            assertArrayEquals(new float[] {202, 0}, out.get("sum")[0]);
            assertArrayEquals(new float[] {202, 0}, out.get("sum_i64")[0]);
        }
    }

    @Test
    void evaluator_reports_auc_and_compares_models() {
        byte[] a = TinyModels.mlp(3, new int[] {4}, 1).toBytes();
        byte[] b = TinyModels.mlp(3, new int[] {4}, 2).toBytes();
        List<Row> rows = TestRows.gaussian("x", 3, 50, 7);
        EvalReport r = Evaluator.evaluate(a, rows, null, RowsScorer.Options.defaults());
        assertEquals(50, r.rows());
        assertTrue(r.auc() >= 0 && r.auc() <= 1);
        ModelComparison same = Evaluator.compare(a, a, rows, "prob", RowsScorer.Options.defaults());
        assertEquals(0.0, same.maxAbsDiff());
        ModelComparison diff = Evaluator.compare(a, b, rows, "prob", RowsScorer.Options.defaults());
        assertTrue(diff.maxAbsDiff() > 0 && diff.meanAbsDiff() <= diff.maxAbsDiff());
    }
}
