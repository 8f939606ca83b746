package ai.distill.store.rows;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowsWriterTest {

  @TempDir Path dir;

  @Test
  void writer_output_reads_back_identically() throws IOException {
    Random random = new Random(7);
    Path f = dir.resolve("rows.jsonl");
    ObjectMapper mapper = new ObjectMapper();
    float[][] dense = new float[50][];
    long[][] sparse = new long[50][];
    try (RowsWriter w = RowsWriter.create(f)) {
      for (int i = 0; i < 50; i++) {
        dense[i] = new float[13];
        for (int j = 0; j < 13; j++) {
          dense[i][j] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6));
        }
        sparse[i] = new long[26];
        for (int j = 0; j < 26; j++) {
          sparse[i][j] = random.nextInt(1_000_000) - (j == 0 ? 500_000 : 0);
        }
        ObjectNode extra =
            i % 2 == 0 ? null : mapper.createObjectNode().put("id", "req-" + i).put("ts", 17L + i);
        Map<String, Object> inputs = new LinkedHashMap<>();
        inputs.put("dense", dense[i]);
        inputs.put("sparse", sparse[i]);
        w.write(inputs, i % 3 == 0 ? null : i % 2, extra);
      }
      assertEquals(50, w.rowsWritten());
      w.sync();
      assertEquals(Files.size(f), w.bytesWritten());
    }
    List<Row> rows = RowsReader.readAll(f, 0);
    assertEquals(50, rows.size());
    for (int i = 0; i < 50; i++) {
      Row r = rows.get(i);
      assertArrayEquals(dense[i], r.input("dense").toFloats(), "row " + i);
      assertArrayEquals(sparse[i], r.input("sparse").toLongs(), "row " + i);
      assertEquals(i % 3 == 0 ? null : Integer.valueOf(i % 2), r.label());
      if (i % 2 == 0) {
        assertNull(r.extra());
      } else {
        assertEquals("req-" + i, r.extra().get("id").asText());
      }
    }
  }

  @Test
  void rows_with_nested_tensors_round_trip_through_write_row() throws IOException {
    Path src = dir.resolve("src.jsonl");
    Files.writeString(
        src, "{\"inputs\":{\"img\":[[0.1,2],[3,-4.5]],\"s\":7},\"label\":1,\"id\":\"a\"}\n");
    Row row = RowsReader.readAll(src, 0).get(0);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (RowsWriter w = RowsWriter.to(bytes)) {
      w.write(row);
    }
    assertEquals(
        "{\"inputs\":{\"img\":[[0.1,2],[3,-4.5]],\"s\":7},\"label\":1,\"id\":\"a\"}\n",
        bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void to_json_line_writes_each_array_type_and_escapes_names() {
    Map<String, Object> inputs = new LinkedHashMap<>();
    inputs.put("f", new float[] {0.5f, 1e-7f});
    inputs.put("d", new double[] {2.0, 0.25});
    inputs.put("l", new long[] {-3, 9_007_199_254_740_993L});
    inputs.put("i", new int[] {});
    inputs.put("we\"ird", new int[] {1});
    assertEquals(
        "{\"inputs\":{\"f\":[0.5,1.0E-7],\"d\":[2,0.25],\"l\":[-3,9007199254740993],\"i\":[],"
            + "\"we\\\"ird\":[1]},\"label\":0}",
        RowsWriter.toJsonLine(inputs, 0, null));
  }

  @Test
  void rejects_non_finite_values_unknown_types_and_clashing_extra_fields() {
    IllegalArgumentException nan =
        assertThrows(
            IllegalArgumentException.class,
            () -> RowsWriter.toJsonLine(Map.of("dense", new float[] {1, Float.NaN}), null, null));
    assertEquals("inputs.dense[1] : NaN (expected: a finite number)", nan.getMessage());
    IllegalArgumentException type =
        assertThrows(
            IllegalArgumentException.class,
            () -> RowsWriter.toJsonLine(Map.of("x", List.of(1)), null, null));
    assertEquals(
        "inputs.x : ImmutableCollections.List12 (expected: float[], double[], long[], int[] or RowTensor)"
            .replace("ImmutableCollections.List12", List.of(1).getClass().getSimpleName()),
        type.getMessage());
    ObjectNode extra = new ObjectMapper().createObjectNode().put("label", 1);
    IllegalArgumentException clash =
        assertThrows(
            IllegalArgumentException.class,
            () -> RowsWriter.toJsonLine(Map.of("x", new int[] {1}), null, extra));
    assertEquals(
        "extra : field \"label\" (expected: fields other than inputs and label)",
        clash.getMessage());
  }

  @Test
  void appending_after_a_torn_write_keeps_the_file_readable_up_to_the_tear() throws IOException {
    Path f = dir.resolve("cap.jsonl");
    try (RowsWriter w = RowsWriter.create(f)) {
      w.write(Map.of("a", new int[] {1}), 1, null);
    }
    Files.writeString(
        f, "{\"inputs\":{\"a\":[2", java.nio.file.StandardOpenOption.APPEND); // crash mid-line
    List<Row> rows = RowsReader.readAll(f, 0);
    assertEquals(1, rows.size());
  }
}
