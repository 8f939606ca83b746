package ai.distill.optimizer.distill;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.rows.Row;
import java.util.List;
import org.junit.jupiter.api.Test;

class Int8ChainTest {

  @Test
  void without_labels_an_int8_student_unlike_its_teacher_is_refused_by_the_teacher_gate() {
    OnnxModel student = TinyModels.ctrModel(5, 3, 1000, 16, new int[] {64, 32}, 11);
    OnnxModel otherTeacher = TinyModels.ctrModel(5, 3, 1000, 16, new int[] {64, 32}, 12);
    List<Row> rows =
        TestRows.ctr(5, 3, 1000, 4000, 5).stream()
            .map(r -> new Row(r.line(), r.inputs(), null, null))
            .toList();
    RowTable table = TestRows.table(student, rows);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Int8Chain.quantize(
                    student.toBytes(),
                    otherTeacher.toBytes(),
                    table,
                    null,
                    DistillOptions.defaults(),
                    ProgressListener.NONE));
    assumeFalse(
        e.getMessage().contains("SLOWER_THAN_SOURCE"),
        "the speed check refused first: " + e.getMessage());
    assertTrue(e instanceof DistillGateException, e.toString());
    assertTrue(
        e.getMessage()
            .startsWith("label-free gate failed for the INT8 student against the teacher"),
        e.getMessage());
    assertTrue(
        e.getMessage().contains("Spearman rank agreement")
            || e.getMessage().contains("soft AUC gap"),
        e.getMessage());
  }
}
