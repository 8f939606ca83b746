package ai.distill.store.rows;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowsReaderTest {

  @TempDir Path dir;

  @Test
  void reads_flat_and_nested_tensors_labels_and_extra_fields() throws IOException {
    Path f =
        write(
            "rows.jsonl",
            "{\"inputs\": {\"dense\": [0.5, -1.25e-3, 3], \"sparse\": [7, 12345678901]}, \"label\": 1}",
            "{\"inputs\": {\"img\": [[1, 2, 3], [4, 5, 6]], \"scalar\": 2.5}, \"label\": 0, \"id\": \"r2\","
                + " \"outputs\": {\"prob\": [0.25]}, \"ts\": 1700000000}",
            "{\"inputs\": {\"x\": [[[1], [2]]]}}");
    List<Row> rows = RowsReader.readAll(f, 0);
    assertEquals(3, rows.size());

    Row r1 = rows.get(0);
    assertEquals(1, r1.line());
    assertEquals(List.of("dense", "sparse"), List.copyOf(r1.inputs().keySet()));
    assertArrayEquals(new int[] {3}, r1.input("dense").shape());
    assertArrayEquals(new float[] {0.5f, -1.25e-3f, 3f}, r1.input("dense").toFloats());
    assertArrayEquals(new long[] {7, 12345678901L}, r1.input("sparse").toLongs());
    assertEquals(1, r1.label());
    assertNull(r1.extra());

    Row r2 = rows.get(1);
    assertArrayEquals(new int[] {2, 3}, r2.input("img").shape());
    assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, r2.input("img").values());
    assertArrayEquals(new int[] {}, r2.input("scalar").shape());
    assertEquals(1, r2.input("scalar").size());
    assertEquals(0, r2.label());
    assertEquals("r2", r2.extra().get("id").asText());
    assertEquals(0.25, r2.extra().get("outputs").get("prob").get(0).asDouble());
    assertEquals(1700000000L, r2.extra().get("ts").asLong());

    Row r3 = rows.get(2);
    assertArrayEquals(new int[] {1, 2, 1}, r3.input("x").shape());
    assertNull(r3.label());
  }

  @Test
  void a_byte_order_mark_is_ignored() throws IOException {
    Path f = write("bom.jsonl", "\uFEFF{\"inputs\": {\"a\": [1]}}", "{\"inputs\": {\"a\": [2]}}");
    assertEquals(2, RowsReader.readAll(f, 0).size());
  }

  @Test
  void blank_lines_are_skipped_and_line_numbers_stay_true() throws IOException {
    Path f =
        write(
            "rows.jsonl",
            "",
            "{\"inputs\": {\"a\": [1]}}",
            "   ",
            "",
            "{\"inputs\": {\"a\": [2]}}",
            "");
    List<Row> rows = RowsReader.readAll(f, 0);
    assertEquals(List.of(2L, 5L), rows.stream().map(Row::line).toList());
  }

  @Test
  void a_torn_last_line_is_skipped_and_counted() throws IOException {
    Path f = dir.resolve("torn.jsonl");
    Files.writeString(
        f,
        "{\"inputs\": {\"a\": [1]}, \"label\": 1}\n{\"inputs\": {\"a\": [2]}}\n{\"inputs\": {\"a\": [3, 4");
    try (RowsReader r = RowsReader.open(f)) {
      assertEquals(1, r.next().input("a").values()[0]);
      assertEquals(2, r.next().input("a").values()[0]);
      assertFalse(r.hasNext());
      assertEquals(1, r.skippedTornLines());
      assertEquals(2, r.rowsRead());
    }
  }

  @Test
  void a_torn_last_line_followed_by_blank_lines_is_still_skipped() throws IOException {
    Path f = write("torn.jsonl", "{\"inputs\": {\"a\": [1]}}", "{\"inpu\u0000\u0000", "", "");
    try (RowsReader r = RowsReader.open(f)) {
      assertEquals(1, r.next().line());
      assertFalse(r.hasNext());
      assertEquals(1, r.skippedTornLines());
    }
  }

  @Test
  void a_bad_line_in_the_middle_names_the_file_and_line() throws IOException {
    Path f =
        write(
            "bad.jsonl",
            "{\"inputs\": {\"a\": [1]}}",
            "",
            "{\"inputs\": {\"a\": [1,, 2]}}",
            "{\"inputs\": {\"a\": [3]}}");
    try (RowsReader r = RowsReader.open(f)) {
      r.next();
      RowsFormatException e = assertThrows(RowsFormatException.class, r::next);
      assertEquals(3, e.line());
      assertEquals(f, e.file());
      assertTrue(e.getMessage().startsWith(f + ":3: not a JSON row: "), e.getMessage());
      assertFalse(r.hasNext(), "the reader stops at a format error");
    }
  }

  @Test
  void nan_and_infinity_are_rejected_with_the_line_even_on_the_last_line() throws IOException {
    Path f = write("nan.jsonl", "{\"inputs\": {\"a\": [1]}}", "{\"inputs\": {\"a\": [1, NaN]}}");
    RowsFormatException e = assertThrows(RowsFormatException.class, () -> RowsReader.readAll(f, 0));
    assertEquals(f + ":2: inputs.a: NaN/Infinity is not allowed (element 1: NaN)", e.getMessage());

    Path g = write("inf.jsonl", "{\"inputs\": {\"a\": [-Infinity]}}", "{\"inputs\": {\"a\": [1]}}");
    assertEquals(1, assertThrows(RowsFormatException.class, () -> RowsReader.readAll(g, 0)).line());

    Path h = write("nan-extra.jsonl", "{\"inputs\": {\"a\": [1]}, \"outputs\": {\"prob\": [NaN]}}");
    RowsFormatException x = assertThrows(RowsFormatException.class, () -> RowsReader.readAll(h, 0));
    assertTrue(
        x.getMessage().endsWith(":1: NaN/Infinity is not allowed (outputs.prob[0])"),
        x.getMessage());
  }

  @Test
  void semantic_errors_say_what_to_fix() throws IOException {
    assertMessage(
        "{\"label\": 1}",
        "missing \"inputs\" (expected: {\"inputs\": {\"<input name>\": [...], ...}, \"label\": 0|1})");
    assertMessage(
        "{\"inputs\": [1, 2]}",
        "\"inputs\" must be an object of input name to list of numbers, got a list");
    assertMessage(
        "{\"inputs\": {\"a\": [[1, 2], [3]]}}",
        "inputs.a: ragged lists: 1 elements where 2 were seen at depth 1 (expected: a rectangular tensor)");
    assertMessage(
        "{\"inputs\": {\"a\": [1, [2]]}}", "inputs.a: mixes numbers and lists at the same depth");
    assertMessage(
        "{\"inputs\": {\"a\": [1, \"x\"]}}",
        "inputs.a: element 1 is a string (expected: a number or a list of numbers)");
    assertMessage(
        "{\"inputs\": {\"a\": [1]}, \"label\": \"yes\"}",
        "\"label\" : a string (expected: 0 or 1)");
    assertMessage(
        "{\"inputs\": {\"a\": [1]}, \"label\": 0.5}", "\"label\" : 0.5 (expected: 0 or 1)");
  }

  @Test
  void reads_capture_segments_of_a_directory_in_name_order() throws IOException {
    Path segs = Files.createDirectories(dir.resolve("captures"));
    Files.writeString(
        segs.resolve("seg-0002.jsonl"), "{\"inputs\": {\"a\": [2]}}\n{\"inputs\": {\"a\": [3]");
    Files.writeString(segs.resolve("seg-0001.jsonl"), "{\"inputs\": {\"a\": [1]}}\n");
    try (OutputStream out =
        new GZIPOutputStream(Files.newOutputStream(segs.resolve("seg-0003.jsonl.gz")))) {
      out.write("{\"inputs\": {\"a\": [4]}}\n".getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(segs.resolve("notes.txt"), "not rows");
    try (RowsReader r = RowsReader.open(segs)) {
      assertEquals(
          List.of(1.0, 2.0, 4.0),
          java.util.stream.Stream.generate(() -> r.hasNext() ? r.next() : null)
              .takeWhile(java.util.Objects::nonNull)
              .map(row -> row.input("a").values()[0])
              .toList());
      assertEquals(1, r.skippedTornLines());
    }
    assertEquals(2, RowsReader.readAll(segs, 2).size());
  }

  @Test
  void a_missing_file_is_named() {
    Path missing = dir.resolve("missing.jsonl");
    java.io.UncheckedIOException e =
        assertThrows(java.io.UncheckedIOException.class, () -> RowsReader.open(missing));
    assertEquals("rows file " + missing + " does not exist or is not readable", e.getMessage());
  }

  @Test
  void to_longs_rejects_fractions() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RowTensor.flat(1, 2.5).toLongs());
    assertEquals("values[1] : 2.5 (expected: an integer)", e.getMessage());
  }

  @Test
  void reads_the_shared_ctr_fixture() {
    Path shared = Path.of(System.getProperty("distill.shared.dir", "../../shared"));
    Path rows = shared.resolve("fixtures/ctr-mlp-torch/rows.jsonl");
    Assumptions.assumeTrue(Files.isReadable(rows), "skipped: fixture " + rows + " is absent");
    List<Row> all = RowsReader.readAll(rows, 0);
    assertTrue(all.size() > 1000, "rows: " + all.size());
    for (Row r : all) {
      assertEquals(13, r.input("dense").size());
      assertEquals(26, r.input("sparse").toLongs().length);
      assertTrue(r.label() == 0 || r.label() == 1);
      assertTrue(r.extra().has("teacher"));
    }
  }

  private void assertMessage(String line, String expected) throws IOException {
    Path f = write("m.jsonl", line, "{\"inputs\": {\"a\": [1]}}");
    RowsFormatException e = assertThrows(RowsFormatException.class, () -> RowsReader.readAll(f, 0));
    assertEquals(f + ":1: " + expected, e.getMessage());
  }

  private Path write(String name, String... lines) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }
}
