package ai.distill.optimizer.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RowTableTest {

  private static final List<RowTable.Column> COLUMNS =
      List.of(
          new RowTable.Column("dense", OnnxJavaType.FLOAT, new int[] {2}),
          new RowTable.Column("ids", OnnxJavaType.INT64, new int[] {1}));

  private static Row row(long line, Integer label, double[] dense, double id) {
    Map<String, RowTensor> in = new LinkedHashMap<>();
    in.put("dense", TestRows.tensor(dense));
    in.put("ids", TestRows.tensor(id));
    return TestRows.row(line, label, in);
  }

  @Test
  void rows_become_typed_columns_with_labels_and_lines() {
    RowTable t =
        RowTable.fromRows(
            COLUMNS,
            List.of(
                row(3, 1, new double[] {1, 2}, 7),
                row(4, null, new double[] {3, 4}, 8),
                row(5, 0, new double[] {5, 6}, 9)));
    assertEquals(3, t.rows());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, (float[]) t.values(0));
    assertArrayEquals(new long[] {7, 8, 9}, (long[]) t.values(1));
    assertArrayEquals(new byte[] {1, RowTable.NO_LABEL, 0}, t.labels());
    assertArrayEquals(new int[] {1, 0}, t.labelValues());
    assertArrayEquals(new float[] {0.1f, 0.3f}, t.labelledOnly(new float[] {0.1f, 0.2f, 0.3f}));
    RowTable tail = t.slice(1, 2);
    assertEquals(4, tail.line(0));
    assertArrayEquals(new long[] {8, 9}, (long[]) tail.values(1));
  }

  @Test
  void fractional_ids_and_non_finite_floats_name_row_input_and_value() {
    RowSignatureException id =
        assertThrows(
            RowSignatureException.class,
            () -> RowTable.fromRows(COLUMNS, List.of(row(1, null, new double[] {1, 2}, 2.5))));
    assertEquals(
        "row 1: input 'ids' value 0 is 2.5 (expected: an integer id for an INT64 input)",
        id.getMessage());
    RowSignatureException nan =
        assertThrows(
            RowSignatureException.class,
            () ->
                RowTable.fromRows(COLUMNS, List.of(row(9, null, new double[] {1, Double.NaN}, 2))));
    assertEquals(
        "row 9: input 'dense' value 1 is NaN (expected: a finite float)", nan.getMessage());
  }

  @Test
  void dynamic_dimensions_are_taken_from_the_first_row() {
    OnnxModel m =
        GraphBuilder.create("dyn")
            .input("x", DataType.FLOAT, -1, -1)
            .op("Relu", "x", "y")
            .output("y", DataType.FLOAT, -1, -1)
            .build();
    List<RowTable.Column> inputs = RowTable.inputsOf(m);
    assertEquals(-1, inputs.get(0).width());
    RowTable t =
        RowTable.fromRows(
            inputs, List.of(TestRows.row(1, null, Map.of("x", TestRows.tensor(1, 2, 3)))));
    assertArrayEquals(new int[] {3}, t.columns().get(0).dims());
    assertThrows(
        RowSignatureException.class,
        () ->
            RowTable.fromRows(
                inputs,
                List.of(
                    TestRows.row(1, null, Map.of("x", TestRows.tensor(1, 2, 3))),
                    TestRows.row(2, null, Map.of("x", TestRows.tensor(1, 2))))));
  }
}
