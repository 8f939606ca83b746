package ai.distill.store.rows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;

/**
 * Writes rows as JSON Lines in the rows format of DESIGN.md, one complete line per {@link #write}
 * call.
 *
 * <pre>{@code
 * try (RowsWriter w = RowsWriter.create(Path.of("rows.jsonl"))) {
 *     w.write(Map.of("dense", denseFloats, "sparse", sparseLongs), 1, null);
 * }
 * }</pre>
 *
 * Input values may be {@code float[]}, {@code double[]}, {@code long[]}, {@code int[]} (written as
 * flat lists) or {@link RowTensor} (written nested by its shape). Non-finite values are rejected,
 * so every line written is standard JSON. Output is buffered: call {@link #flush()} to hand lines
 * to the OS and {@link #sync()} to make them durable; after a crash at most the last line is torn,
 * which {@link RowsReader} skips. Not thread-safe.
 */
public final class RowsWriter implements AutoCloseable {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonStringEncoder ENCODER = JsonStringEncoder.getInstance();

  private final OutputStream out;
  private final FileChannel channel;
  private final Path file;
  private final StringBuilder sb = new StringBuilder(1024);
  private final Map<String, String> quotedNames = new HashMap<>();
  private long rows;
  private long bytes;

  private RowsWriter(OutputStream out, FileChannel channel, Path file) {
    this.out = out;
    this.channel = channel;
    this.file = file;
  }

  /** Creates (or truncates) {@code file}. */
  public static RowsWriter create(Path file) {
    return open(
        file,
        StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE);
  }

  /** Appends to {@code file}, creating it if needed. */
  public static RowsWriter append(Path file) {
    return open(
        file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
  }

  /** Writes to a stream (closed by {@link #close()}); {@link #sync()} only flushes. */
  public static RowsWriter to(OutputStream stream) {
    return new RowsWriter(
        new BufferedOutputStream(Objects.requireNonNull(stream, "stream"), 1 << 16), null, null);
  }

  private static RowsWriter open(Path file, StandardOpenOption... options) {
    try {
      FileChannel ch = FileChannel.open(file, options);
      return new RowsWriter(
          new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16), ch, file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open rows file " + file + " for writing: " + e, e);
    }
  }

  /**
   * Writes one row.
   *
   * @param inputs input name to values (see the class comment for the accepted types)
   * @param label 0/1 click label, or null for none
   * @param extra further fields ({@code outputs}, {@code id}, {@code ts}...), or null; must not
   *     contain {@code inputs} or {@code label}
   * @throws IllegalArgumentException for an unsupported value type, a non-finite value or a
   *     clashing extra field
   */
  public void write(Map<String, ?> inputs, Integer label, ObjectNode extra) {
    sb.setLength(0);
    appendRow(sb, inputs, label, extra, quotedNames);
    sb.append('\n');
    writeLine();
  }

  /** Writes a row read by {@link RowsReader}, keeping its shapes, label and extra fields. */
  public void write(Row row) {
    write(row.inputs(), row.label(), row.extra());
  }

  /** One row as a JSON line without the trailing newline. */
  public static String toJsonLine(Map<String, ?> inputs, Integer label, ObjectNode extra) {
    StringBuilder b = new StringBuilder(256);
    appendRow(b, inputs, label, extra, null);
    return b.toString();
  }

  /** Rows written so far. */
  public long rowsWritten() {
    return rows;
  }

  /** UTF-8 bytes written so far (for rotating segments by size). */
  public long bytesWritten() {
    return bytes;
  }

  /** The file written, or null for a stream. */
  public Path file() {
    return file;
  }

  /** Hands buffered lines to the operating system. */
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write rows to " + where() + ": " + e, e);
    }
  }

  /** Flushes and fsyncs the file so that the rows written so far survive a crash. */
  public void sync() {
    flush();
    if (channel != null) {
      try {
        channel.force(false);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot sync rows file " + file + ": " + e, e);
      }
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close rows file " + where() + ": " + e, e);
    }
  }

  private void writeLine() {
    byte[] line = sb.toString().getBytes(StandardCharsets.UTF_8);
    try {
      out.write(line);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write rows to " + where() + ": " + e, e);
    }
    rows++;
    bytes += line.length;
  }

  private String where() {
    return file != null ? file.toString() : "stream";
  }

  private static void appendRow(
      StringBuilder b,
      Map<String, ?> inputs,
      Integer label,
      ObjectNode extra,
      Map<String, String> nameCache) {
    Objects.requireNonNull(inputs, "inputs");
    b.append("{\"inputs\":{");
    boolean first = true;
    for (Map.Entry<String, ?> e : inputs.entrySet()) {
      String name = Objects.requireNonNull(e.getKey(), "input name");
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append(nameCache != null ? nameCache.computeIfAbsent(name, RowsWriter::quote) : quote(name))
          .append(':');
      appendValues(b, name, e.getValue());
    }
    b.append('}');
    if (label != null) {
      b.append(",\"label\":").append(label.intValue());
    }
    if (extra != null && !extra.isEmpty()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = extra.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (f.getKey().equals("inputs") || f.getKey().equals("label")) {
          throw new IllegalArgumentException(
              "extra : field \""
                  + f.getKey()
                  + "\" (expected: fields other than inputs and label)");
        }
        b.append(',').append(quote(f.getKey())).append(':');
        try {
          b.append(MAPPER.writeValueAsString(f.getValue()));
        } catch (JsonProcessingException ex) {
          throw new IllegalArgumentException(
              "extra." + f.getKey() + " is not serialisable: " + ex.getOriginalMessage(), ex);
        }
      }
    }
    b.append('}');
  }

  private static String quote(String s) {
    return "\"" + new String(ENCODER.quoteAsString(s)) + "\"";
  }

  private static void appendValues(StringBuilder b, String name, Object v) {
    if (v instanceof float[] a) {
      b.append('[');
      for (int i = 0; i < a.length; i++) {
        if (!Float.isFinite(a[i])) {
          throw nonFinite(name, i, a[i]);
        }
        if (i > 0) {
          b.append(',');
        }
        b.append(a[i]);
      }
      b.append(']');
    } else if (v instanceof double[] a) {
      b.append('[');
      for (int i = 0; i < a.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        appendDouble(b, name, i, a[i]);
      }
      b.append(']');
    } else if (v instanceof long[] a) {
      b.append('[');
      for (int i = 0; i < a.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append(a[i]);
      }
      b.append(']');
    } else if (v instanceof int[] a) {
      b.append('[');
      for (int i = 0; i < a.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append(a[i]);
      }
      b.append(']');
    } else if (v instanceof RowTensor t) {
      int[] pos = {0};
      appendNested(b, name, t, 0, pos);
    } else {
      throw new IllegalArgumentException(
          "inputs."
              + name
              + " : "
              + (v == null ? "null" : v.getClass().getSimpleName())
              + " (expected: float[], double[], long[], int[] or RowTensor)");
    }
  }

  private static void appendNested(
      StringBuilder b, String name, RowTensor t, int depth, int[] pos) {
    if (depth == t.shape().length) {
      appendDouble(b, name, pos[0], t.values()[pos[0]]);
      pos[0]++;
      return;
    }
    b.append('[');
    for (int i = 0; i < t.shape()[depth]; i++) {
      if (i > 0) {
        b.append(',');
      }
      appendNested(b, name, t, depth + 1, pos);
    }
    b.append(']');
  }

  private static void appendDouble(StringBuilder b, String name, int i, double d) {
    if (!Double.isFinite(d)) {
      throw nonFinite(name, i, d);
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      b.append((long) d); // integers (ids, counts) stay integers
    } else {
      b.append(d);
    }
  }

  private static IllegalArgumentException nonFinite(String name, int i, double d) {
    return new IllegalArgumentException(
        "inputs." + name + "[" + i + "] : " + d + " (expected: a finite number)");
  }
}
