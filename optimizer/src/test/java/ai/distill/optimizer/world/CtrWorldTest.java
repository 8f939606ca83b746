package ai.distill.optimizer.world;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.distill.TeacherSignature;
import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CtrWorldTest {

  @Test
  void same_seed_gives_the_same_world_and_rows() {
    CtrWorld a = new CtrWorld(5);
    CtrWorld b = new CtrWorld(5);
    CtrWorld.Sample x = a.sampleRow(new Random(1));
    CtrWorld.Sample y = b.sampleRow(new Random(1));
    assertArrayEquals(x.dense(), y.dense());
    assertArrayEquals(x.sparse(), y.sparse());
    assertEquals(x.clickProbability(), y.clickProbability());
    assertTrue(new CtrWorld(6).clickProbability(x.dense(), x.sparse()) != x.clickProbability());
  }

  @Test
  void world_has_a_realistic_click_rate_zipf_ids_and_learnable_signal() {
    CtrWorld w = CtrWorld.demo();
    double[] truth = new double[20_000];
    RowTable t = w.table(20_000, 3, truth);
    float[] p = new float[truth.length];
    int[] y = new int[truth.length];
    int zeros = 0;
    long[] sparse = (long[]) t.values(1);
    for (int i = 0; i < truth.length; i++) {
      p[i] = (float) truth[i];
      y[i] = t.labels()[i];
      if (sparse[i * CtrWorld.FIELDS] == 0) {
        zeros++;
      }
    }
    double ctr = BinaryMetrics.mean(p);
    assertTrue(ctr > 0.08 && ctr < 0.12, "click rate " + ctr);
    double bayes = BinaryMetrics.auc(p, y);
    assertTrue(bayes > 0.8 && bayes < 0.95, "Bayes AUC " + bayes);
    assertTrue(zeros > 20_000 / 20, "id 0 is the most common id: " + zeros);
    float[] dense = (float[]) t.values(0);
    for (float v : dense) {
      assertTrue(v >= 0 && Float.isFinite(v));
    }
  }

  @Test
  void rows_written_have_the_demo_signature_and_labels(@TempDir Path dir) {
    Path file = dir.resolve("rows.jsonl");
    CtrWorld.writeRows(file, 50, 9);
    List<Row> rows = RowsReader.readAll(file, 0);
    assertEquals(50, rows.size());
    assertEquals(13, rows.get(0).input("dense").size());
    assertEquals(26, rows.get(0).input("sparse").size());
    assertTrue(rows.stream().allMatch(r -> r.label() == 0 || r.label() == 1));
    TeacherSignature sig = CtrWorld.signature();
    try (RowsReader r = RowsReader.open(file)) {
      assertEquals(50, RowTable.fromRows(sig.columns(), r, 0).labelledRows());
    }
  }
}
