package ai.distill.gateway.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.rows.Row;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecentRowsTest {

  private static String row(int i) {
    return "{\"inputs\": {\"x\": [" + i + ".0]}, \"ts\": " + (1000 + i) + "}\n";
  }

  private static void segment(Path dir, int seq, int from, int to, String tail) throws Exception {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      b.append(row(i));
    }
    b.append(tail);
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve(String.format("segment-%012d.jsonl", seq)), b, StandardCharsets.UTF_8);
  }

  @Test
  void reads_the_newest_rows_across_segments_oldest_first(@TempDir Path dir) throws Exception {
    Path stream = dir.resolve("ab");
    segment(stream, 1, 0, 50, "");
    segment(stream, 2, 50, 60, "");
    segment(stream, 3, 60, 65, "{\"inputs\": {\"x\": [9"); // torn by a crash

    List<Row> rows = RecentRows.read(stream, 20);

    assertEquals(20, rows.size());
    assertEquals(1045, RecentRows.timestamp(rows.get(0)));
    assertEquals(1064, RecentRows.timestamp(rows.get(19)));
    assertEquals(4, RecentRows.newerThan(rows, 1060));
    assertTrue(RecentRows.read(dir.resolve("none"), 20).isEmpty());
  }

  @Test
  void copies_the_newest_complete_lines_for_a_job(@TempDir Path dir) throws Exception {
    Path stream = dir.resolve("ab");
    segment(stream, 1, 0, 30, "");
    segment(stream, 2, 30, 40, "{\"inputs\": ");
    Path copy = dir.resolve("jobs/j.rows.jsonl");

    int n = RecentRows.copyNewest(stream, 15, copy);

    List<String> lines = Files.readAllLines(copy);
    assertEquals(15, n);
    assertEquals(15, lines.size());
    assertEquals(row(25).trim(), lines.get(0));
    assertEquals(row(39).trim(), lines.get(14));
  }
}
