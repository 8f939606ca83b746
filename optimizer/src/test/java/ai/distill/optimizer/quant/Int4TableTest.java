package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Int4TableTest {

  private static final int ROWS = 50;
  private static final int COLS = 16;

  private static float[] table(long seed) {
    Random r = new Random(seed);
    float[] t = new float[ROWS * COLS];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) (r.nextGaussian() * (1 + i / COLS % 5)); // rows of different spread
    }
    return t;
  }

  @Test
  void round_trip_is_within_half_a_step_of_each_row() {
    float[] t = table(1);
    Int4Table q = Int4Table.quantize(t, ROWS, COLS);
    for (int r = 0; r < ROWS; r++) {
      for (int c = 0; c < COLS; c++) {
        float err = Math.abs(q.dequantize(r, c) - t[r * COLS + c]);
        assertTrue(err <= q.scales()[r] / 2 + 1e-6, "row " + r + " col " + c + " err " + err);
        assertTrue(q.value(r, c) >= 0 && q.value(r, c) <= 15);
      }
    }
    assertEquals(ROWS * COLS / 2, q.packed().length);
    assertEquals(16, q.blockSize());
  }

  @Test
  void odd_rows_are_refused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Int4Table.quantize(new float[15], 3, 5));
    assertTrue(e.getMessage().contains("expected: even cols"), e.getMessage());
  }

  @Test
  void ort_lookups_return_the_dequantized_rows_both_ways() {
    float[] t = table(2);
    OnnxModel m =
        GraphBuilder.create("lookup")
            .opset(14)
            .input("ids", DataType.INT64, -1)
            .output("rows", DataType.FLOAT, -1, COLS)
            .initializer("emb", t, ROWS, COLS)
            .gather("emb", "ids", "rows", 0)
            .build();
    QuantTarget target = QuantTarget.find(m).get(0);
    Int4Table q = Int4Table.quantize(t, ROWS, COLS);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      rows.add(TestRows.row(i + 1, null, Map.of("ids", TestRows.tensor((i * 7) % ROWS))));
    }
    for (boolean gbq : new boolean[] {false, true}) {
      QdqRewriter.Emitter e = new QdqRewriter.Emitter(m);
      e.tableBits = 4;
      e.gatherBlockQuantized = gbq;
      e.emitUnlessMatMul(0, m.nodes().get(0), target, m.initializers(), false);
      OnnxModel q4 = e.build(m);
      assertTrue(q4.initializer("emb").isEmpty(), "float table still stored");
      try (TableScorer s = TableScorer.open(q4.toBytes(), TableScorer.Options.defaults())) {
        float[][] out = s.scoreAll(TestRows.table(m, rows)).get("rows");
        for (int i = 0; i < ROWS; i++) {
          int id = (i * 7) % ROWS;
          for (int c = 0; c < COLS; c++) {
            assertEquals(q.dequantize(id, c), out[i][c], 1e-6, "gbq " + gbq + " id " + id);
          }
        }
      }
    }
  }

  @Test
  void four_bit_ctr_model_is_smaller_close_to_fp32_and_passes_onnx_checker(@TempDir Path dir)
      throws Exception {
    OnnxModel m = QdqRewriterTest.ctr();
    List<QuantTarget> targets = QuantTarget.find(m);
    List<Row> rows = TestRows.ctr(5, 3, 1000, 300, 3);
    QuantizeOptions o4 = QuantizeOptions.builder().embeddingBits(4).build();
    var ranges = QdqRewriterTest.calibrate(m, targets, rows.subList(0, 100));
    OnnxModel q8 = QdqRewriter.rewrite(m, targets, ranges, QuantizeOptions.defaults(), Set.of());
    OnnxModel q4 = QdqRewriter.rewrite(m, targets, ranges, o4, Set.of());
    assertTrue(q4.sizeBytes() < q8.sizeBytes(), q4.sizeBytes() + " vs " + q8.sizeBytes());
    var c =
        ai.distill.optimizer.eval.Evaluator.compare(
            m.toBytes(),
            q4.toBytes(),
            TestRows.table(m, rows.subList(100, 300)),
            "prob",
            TableScorer.Options.defaults());
    assertTrue(c.meanAbsDiff() < 0.02, "mean |diff| " + c.meanAbsDiff());
    assertEquals(DataType.UINT8, TensorProtos.type(q4.initializer("emb0_4bit").orElseThrow()));
    QdqRewriterTest.assertCheckerAccepts(dir, List.of(q4));
  }
}
