package ai.distill.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing many lines on one parser judges every line exactly as parsing it alone does. */
class RowBatchTest {

  static final ModelSignature SIGNATURE =
      new ModelSignature(
          List.of(
              new TensorSpec("dense", Datatype.FP32, new long[] {-1, 2}),
              new TensorSpec("sparse", Datatype.INT64, new long[] {-1, 1})),
          List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1})));

  static final List<String> LINES =
      List.of(
          "{\"inputs\": {\"dense\": [1.5, 2], \"sparse\": [3]}, \"label\": 1}",
          "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [3]}} {\"inputs\": {}}",
          "{\"inputs\": {\"dense\": [1, 2],",
          "\"sparse\": [3]}}",
          "   ",
          "{\"inputs\": {\"dense\": [4, 5]}}",
          "{\"inputs\": {\"dense\": [6, 7], \"sparse\": [8]}, \"id\": \"r7\"}\r",
          "[1, 2]",
          "{\"inputs\": {\"dense\": [9, 10], \"sparse\": [11]}}  ",
          "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [3]}, \"user_id\": \"u\"",
          "{\"inputs\": {\"dense\": [12, 13], \"sparse\": [14]}}");

  @Test
  void lines_parsed_together_are_judged_as_each_line_alone() {
    RowBatch alone = new RowBatch(SIGNATURE, 64, 0, "m");
    for (String line : LINES) {
      byte[] b = line.replace("\r", "").getBytes(StandardCharsets.UTF_8);
      alone.add(b, 0, b.length);
    }
    RowBatch together = new RowBatch(SIGNATURE, 64, 0, "m");
    byte[] all = (String.join("\n", LINES) + "\n").getBytes(StandardCharsets.UTF_8);
    assertEquals(all.length, together.addLines(all, 0, all.length, 1 << 20));
    assertEquals(alone.entries(), together.entries());
    assertEquals(alone.goodRows(), together.goodRows());
    assertEquals(4, together.goodRows(), together.entries().toString());
    assertEquals("r7", together.entries().get(6).id());
    assertEquals(tensorBytes(alone), tensorBytes(together), "the good rows' values, in line order");
  }

  static List<String> tensorBytes(RowBatch batch) {
    return batch.request().inputs().stream()
        .map(
            t -> {
              java.nio.ByteBuffer data = t.data().duplicate();
              byte[] b = new byte[data.remaining()];
              data.get(b);
              return t.name() + java.util.Arrays.toString(b);
            })
        .toList();
  }

  @Test
  void a_row_whose_float_overflows_is_an_error_of_its_own_unless_the_model_allows_it() {
    String good = "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [3]}}\n";
    String huge = "{\"inputs\": {\"dense\": [1e39, 2], \"sparse\": [3]}}\n";
    byte[] lines = (good + huge + good).getBytes(StandardCharsets.UTF_8);
    RowBatch refusing = new RowBatch(SIGNATURE, 8, 0, "m");
    refusing.addLines(lines, 0, lines.length, 1 << 20);
    assertEquals(2, refusing.goodRows());
    String error = refusing.entries().get(1).error();
    assertTrue(
        error.contains("input 'dense': value 0 is not finite")
            && error.contains("models.m.allow_non_finite"),
        error);
    RowBatch allowing = new RowBatch(SIGNATURE, 8, 0, null);
    allowing.addLines(lines, 0, lines.length, 1 << 20);
    assertEquals(3, allowing.goodRows());
    assertEquals(
        Float.POSITIVE_INFINITY, allowing.request().inputs().get(0).data().getFloat(2 * 4));
  }

  @Test
  void stops_when_full_and_at_a_line_longer_than_the_limit() {
    String good = "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [3]}}\n";
    byte[] three = (good + good + good).getBytes(StandardCharsets.UTF_8);
    RowBatch two = new RowBatch(SIGNATURE, 2, 0, "m");
    assertEquals(2 * good.length(), two.addLines(three, 0, three.length, 1 << 20));
    assertTrue(two.full());
    byte[] longLine =
        (good + "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [3]}, \"label\": 1}\n" + good)
            .getBytes(StandardCharsets.UTF_8);
    RowBatch limited = new RowBatch(SIGNATURE, 8, 0, "m");
    assertEquals(good.length(), limited.addLines(longLine, 0, longLine.length, good.length()));
    assertEquals(1, limited.size());
  }

  @Test
  void a_line_buffer_holds_a_partial_line_until_its_end_arrives() {
    LineBuffer in = new LineBuffer();
    in.append(Buffer.buffer("{\"a\": 1}\n{\"b\""));
    int whole = in.wholeLinesEnd();
    assertEquals(9, whole - in.start());
    in.consumeTo(whole);
    assertEquals(4, in.partialLength());
    assertEquals(-1, in.wholeLinesEnd());
    in.append(Buffer.buffer(": 2}"));
    assertEquals(-1, in.wholeLinesEnd());
    in.terminate();
    int end = in.wholeLinesEnd();
    assertEquals(
        "{\"b\": 2}\n",
        new String(in.array(), in.start(), end - in.start(), StandardCharsets.UTF_8));
    in.consumeTo(end);
    assertTrue(in.isEmpty());
    assertFalse(in.wholeLinesEnd() >= 0);
  }
}
