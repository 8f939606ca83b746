package ai.distill.gateway.stream;

import ai.distill.gateway.InferResult;
import ai.distill.gateway.tensor.Tensor;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes a micro-batch's answers as NDJSON, one line per input line, in order: {@code {"row": 7,
 * "outputs": {"prob": [0.12]}}}, plus {@code "id"} and {@code "variant"} for an experiment, or
 * {@code {"row": 7, "error": "..."}} for a line that could not be scored. Stateless.
 */
final class RowLines {

  private final boolean routed;

  RowLines(boolean routed) {
    this.routed = routed;
  }

  /**
   * A model batch: {@code results} holds the one result for all good rows, or is null with {@code
   * failure} set.
   */
  Buffer encode(RowBatch batch, List<InferResult> results, Throwable failure) {
    InferResult result = results == null ? null : results.get(0);
    ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * 48);
    try (JsonGenerator g = RowBatch.JSON.createGenerator(out)) {
      g.setRootValueSeparator(null);
      int good = 0;
      for (RowBatch.Entry e : batch.entries()) {
        if (e.error() != null) {
          error(g, e.row(), e.error());
        } else if (result == null) {
          error(g, e.row(), message(failure));
          good++;
        } else {
          row(g, e.row(), result, good++, null, null);
        }
        g.writeRaw('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }

  /** An experiment batch: one outcome per good row, an {@link InferResult} or a Throwable. */
  Buffer encodeRows(RowBatch batch, List<Object> outcomes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * 96);
    try (JsonGenerator g = RowBatch.JSON.createGenerator(out)) {
      g.setRootValueSeparator(null);
      int good = 0;
      for (RowBatch.Entry e : batch.entries()) {
        if (e.error() != null) {
          error(g, e.row(), e.error());
        } else {
          Object o = outcomes.get(good++);
          if (o instanceof InferResult r) {
            row(g, e.row(), r, 0, r.id(), r.variant());
          } else {
            error(g, e.row(), message((Throwable) o));
          }
        }
        g.writeRaw('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }

  private void row(JsonGenerator g, long row, InferResult r, int index, String id, String variant)
      throws IOException {
    g.writeStartObject();
    g.writeNumberField("row", row);
    if (routed) {
      g.writeStringField("id", id);
      if (variant != null) {
        g.writeStringField("variant", variant);
      }
    }
    g.writeObjectFieldStart("outputs");
    for (Tensor t : r.outputs()) {
      g.writeArrayFieldStart(t.name());
      long n = t.rowElements();
      long base = index * n;
      for (long j = 0; j < n; j++) {
        switch (t.datatype()) {
          case FP32, FP16 -> g.writeNumber((float) t.getDouble(base + j));
          case FP64 -> g.writeNumber(t.getDouble(base + j));
          case BOOL -> g.writeBoolean(t.getLong(base + j) != 0);
          default -> g.writeNumber(t.getLong(base + j));
        }
      }
      g.writeEndArray();
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void error(JsonGenerator g, long row, String message) throws IOException {
    g.writeStartObject();
    g.writeNumberField("row", row);
    g.writeStringField("error", message);
    g.writeEndObject();
  }

  private static String message(Throwable e) {
    return e == null || e.getMessage() == null ? String.valueOf(e) : e.getMessage();
  }
}
