package ai.distill.gateway.stream;

import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One micro-batch of NDJSON rows (the rows format: {@code {"inputs": {"<input>": <row tensor>,
 * ...}, "user_id": ..., "id": ...}}; other fields such as {@code label} are ignored), parsed with
 * Jackson's streaming parser straight into one native-order buffer per model input, so a batch of
 * {@code n} good rows is one {@link InferRequest} of {@code n} rows. A line that does not parse or
 * does not fit the signature becomes an error entry at its position; the batch goes on. Not
 * thread-safe: one stream's event loop fills it.
 */
final class RowBatch {

  // Fast (Schubfach / FastDoubleParser) number reading and writing: rows are mostly numbers.
  static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64).build())
          .build();

  /** One line of the batch: a good row ({@code error} null) or an error. */
  record Entry(long row, String error, Object userId, String id) {}

  private final List<TensorSpec> specs;
  private final Map<String, Integer> index = new HashMap<>();
  private final long[] perRow;
  private final ByteBuffer[] buffers;
  private final int capacity;
  private final long firstRow;
  private final String finiteOnly;
  private final List<Entry> entries = new ArrayList<>();
  private int goodRows;

  /**
   * @param finiteOnly the model whose policy refuses NaN and Infinity in float inputs (a row that
   *     has one is an error entry of its own), or null when they are allowed
   * @throws BadInputException when an input has no dynamic batch dimension or a dynamic inner one
   */
  RowBatch(ModelSignature signature, int capacity, long firstRow, String finiteOnly) {
    this.specs = signature.inputs();
    this.finiteOnly = finiteOnly;
    this.capacity = capacity;
    this.firstRow = firstRow;
    perRow = new long[specs.size()];
    buffers = new ByteBuffer[specs.size()];
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec s = specs.get(i);
      if (!s.batched() || s.elementsPerRow() < 0) {
        throw new BadInputException(
            "input '"
                + s.name()
                + "' has shape "
                + Arrays.toString(s.shape())
                + ": streaming needs a dynamic batch dimension and fixed row dimensions");
      }
      index.put(s.name(), i);
      perRow[i] = s.elementsPerRow();
      buffers[i] = Tensor.allocate(capacity * perRow[i] * s.datatype().byteSize(), false);
    }
  }

  /** Lines (good or not) in this batch. */
  int size() {
    return entries.size();
  }

  /** Good rows, i.e. rows of the batch's tensors. */
  int goodRows() {
    return goodRows;
  }

  /** Stream index of this batch's first line. */
  long firstRow() {
    return firstRow;
  }

  boolean full() {
    return entries.size() >= capacity;
  }

  List<Entry> entries() {
    return entries;
  }

  /** Parses one line into the batch; a bad line becomes an error entry (then false). */
  boolean add(byte[] line, int offset, int length) {
    long row = firstRow + entries.size();
    try {
      entries.add(parse(line, offset, length, row));
      goodRows++;
      return true;
    } catch (BadInputException e) {
      entries.add(new Entry(row, e.getMessage(), null, null));
      return false;
    }
  }

  /** Adds an error entry for a line that could not even be read (too long). */
  void addError(String message) {
    entries.add(new Entry(firstRow + entries.size(), message, null, null));
  }

  /**
   * Parses the lines of {@code buf[from, to)}, each ended by {@code '\n'}, into the batch until it
   * is full or a line is longer than {@code maxLineBytes}; returns where it stopped (the start of
   * the first line not added). Empty lines are skipped. Consecutive good rows share one parser
   * (creating a parser per line was a seventh of the parsing cost); any line that does not parse
   * cleanly on it, or not within its own line, is parsed again alone, so that every line is judged
   * exactly as {@link #add} judges it.
   */
  int addLines(byte[] buf, int from, int to, int maxLineBytes) {
    int pos = from;
    JsonParser shared = null;
    int base = 0;
    try {
      while (pos < to && !full()) {
        int nl = pos;
        while (buf[nl] != '\n') {
          nl++;
        }
        int end = nl > pos && buf[nl - 1] == '\r' ? nl - 1 : nl;
        if (end - pos > maxLineBytes) {
          return pos;
        }
        if (end > pos) {
          if (shared == null) {
            shared = JSON.createParser(buf, pos, to - pos);
            base = pos;
          }
          if (!addShared(shared, buf, base, end)) {
            shared.close();
            shared = null;
            add(buf, pos, end - pos);
          }
        }
        pos = nl + 1;
      }
      return pos;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (shared != null) {
        try {
          shared.close();
        } catch (IOException e) {
          // nothing held: the input is an array
        }
      }
    }
  }

  // The next row on the shared parser, if it is good and ends on its own line (before `end`).
  private boolean addShared(JsonParser p, byte[] buf, int base, int end) {
    boolean[] seen = new boolean[specs.size()];
    Entry e;
    try {
      e = readRow(p, firstRow + entries.size(), seen);
    } catch (IOException | RuntimeException ex) {
      return false;
    }
    long after = base + p.currentLocation().getByteOffset();
    if (after > end || !blank(buf, (int) after, end)) {
      return false;
    }
    for (boolean s : seen) {
      if (!s) {
        return false;
      }
    }
    entries.add(e);
    goodRows++;
    return true;
  }

  // JSON has no NaN or Infinity literals, but 1e999 (or 1e39 in FP32) overflows to Infinity.
  private double finite(double v, Datatype d, String name, long i) {
    if (finiteOnly != null && !Double.isFinite(v)) {
      throw new BadInputException(
          "input '"
              + name
              + "': value "
              + i
              + " is not finite ("
              + v
              + " in "
              + d
              + "); model "
              + finiteOnly
              + " refuses NaN and Infinity (allow them with models."
              + finiteOnly
              + ".allow_non_finite)");
    }
    return v;
  }

  private float finite(float v, Datatype d, String name, long i) {
    return (float) finite((double) v, d, name, i);
  }

  private static boolean blank(byte[] buf, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = buf[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  private Entry parse(byte[] line, int offset, int length, long row) {
    boolean[] seen = new boolean[specs.size()];
    Entry entry;
    try (JsonParser p = JSON.createParser(line, offset, length)) {
      entry = readRow(p, row, seen);
      if (p.nextToken() != null) {
        throw new BadInputException("unexpected content after the row object");
      }
    } catch (JsonProcessingException e) {
      throw new BadInputException("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < seen.length; i++) {
      if (!seen[i]) {
        missing.add(specs.get(i).name());
      }
    }
    if (!missing.isEmpty()) {
      throw new BadInputException("row has no input(s) " + missing + " in 'inputs'");
    }
    return entry;
  }

  // One row object, from its START_OBJECT to its END_OBJECT; marks the inputs it has in `seen`.
  private Entry readRow(JsonParser p, long row, boolean[] seen) throws IOException {
    Object userId = null;
    String id = null;
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new BadInputException("a row must be a JSON object");
    }
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      switch (field) {
        case "inputs" -> readInputs(p, t, seen);
        case "user_id" -> userId = scalar(p, t, "user_id");
        case "id" -> id = String.valueOf(scalar(p, t, "id"));
        default -> p.skipChildren();
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new BadInputException("malformed JSON: the row object is not closed");
    }
    return new Entry(row, null, userId, id);
  }

  private static Object scalar(JsonParser p, JsonToken t, String field) throws IOException {
    return switch (t) {
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT -> p.getLongValue();
      default -> throw new BadInputException("'" + field + "' must be a string or an integer");
    };
  }

  private void readInputs(JsonParser p, JsonToken t, boolean[] seen) throws IOException {
    if (t != JsonToken.START_OBJECT) {
      throw new BadInputException("'inputs' must be an object of input name to row tensor");
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      Integer i = index.get(name);
      JsonToken v = p.nextToken();
      if (i == null) {
        throw new BadInputException(
            "unexpected input '" + name + "' (the model expects " + index.keySet() + ")");
      }
      seen[i] = true;
      readValues(p, v, i, name);
    }
  }

  // Values go to the slot of the next good row; a failed row is simply overwritten by the next.
  private void readValues(JsonParser p, JsonToken t, int input, String name) throws IOException {
    Datatype d = specs.get(input).datatype();
    ByteBuffer out = buffers[input];
    long expected = perRow[input];
    int base = (int) (goodRows * expected * d.byteSize());
    long n = 0;
    if (t == JsonToken.START_ARRAY) {
      int depth = 1;
      while (depth > 0) {
        JsonToken v = p.nextToken();
        if (v == JsonToken.START_ARRAY) {
          depth++;
        } else if (v == JsonToken.END_ARRAY) {
          depth--;
        } else if (v == null) {
          throw new BadInputException("input '" + name + "': array is not closed");
        } else {
          if (n < expected) {
            store(p, v, d, out, base + (int) n * d.byteSize(), name, n);
          }
          n++;
        }
      }
    } else {
      if (expected >= 1) {
        store(p, t, d, out, base, name, 0);
      }
      n = 1;
    }
    if (n != expected) {
      throw new BadInputException(
          "input '"
              + name
              + "': "
              + n
              + " values, expected "
              + expected
              + " (shape "
              + Arrays.toString(specs.get(input).shape())
              + " without the batch dimension)");
    }
  }

  private void store(
      JsonParser p, JsonToken t, Datatype d, ByteBuffer out, int at, String name, long i)
      throws IOException {
    boolean integral = t == JsonToken.VALUE_NUMBER_INT;
    if (!integral && t != JsonToken.VALUE_NUMBER_FLOAT) {
      if (d == Datatype.BOOL && (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE)) {
        out.put(at, (byte) (t == JsonToken.VALUE_TRUE ? 1 : 0));
        return;
      }
      throw new BadInputException(
          "input '" + name + "': value " + i + " is not a number (" + d + ")");
    }
    switch (d) {
      case FP32 -> out.putFloat(at, finite(p.getFloatValue(), d, name, i));
      case FP64 -> out.putDouble(at, finite(p.getDoubleValue(), d, name, i));
      case INT64, INT32, INT16, INT8, UINT8, UINT16, UINT32, UINT64, BOOL -> {
        if (!integral) {
          throw new BadInputException(
              "input '" + name + "': value " + i + " is not an integer (" + d + ")");
        }
        long v = p.getLongValue();
        switch (d) {
          case INT64, UINT64 -> out.putLong(at, v);
          case INT32, UINT32 -> out.putInt(at, (int) range(v, d, name, i));
          case INT16, UINT16 -> out.putShort(at, (short) range(v, d, name, i));
          default -> out.put(at, (byte) range(v, d, name, i));
        }
      }
      default -> throw new BadInputException("input '" + name + "': " + d + " is not streamable");
    }
  }

  private static long range(long v, Datatype d, String name, long i) {
    long min =
        switch (d) {
          case INT8 -> Byte.MIN_VALUE;
          case INT16 -> Short.MIN_VALUE;
          case INT32 -> Integer.MIN_VALUE;
          default -> 0;
        };
    long max =
        switch (d) {
          case INT8 -> Byte.MAX_VALUE;
          case INT16 -> Short.MAX_VALUE;
          case INT32 -> Integer.MAX_VALUE;
          case UINT8 -> 255;
          case UINT16 -> 65535;
          case UINT32 -> 0xFFFF_FFFFL;
          case BOOL -> 1;
          default -> Long.MAX_VALUE;
        };
    if (v < min || v > max) {
      throw new BadInputException(
          "input '" + name + "': value " + i + " = " + v + " is out of range for " + d);
    }
    return v;
  }

  /** The batch's good rows as one request (rows in line order), or null when there are none. */
  InferRequest request() {
    if (goodRows == 0) {
      return null;
    }
    return new InferRequest(null, tensors(0, goodRows), List.of(), false, Map.of());
  }

  /** One request per good row, with its {@code user_id} and {@code id} (experiments). */
  List<InferRequest> rowRequests() {
    List<InferRequest> out = new ArrayList<>(goodRows);
    int r = 0;
    for (Entry e : entries) {
      if (e.error() != null) {
        continue;
      }
      Map<String, Object> params = new HashMap<>();
      if (e.userId() != null) {
        params.put("user_id", e.userId());
      }
      out.add(new InferRequest(e.id(), tensors(r, r + 1), List.of(), false, params));
      r++;
    }
    return out;
  }

  private List<Tensor> tensors(int from, int to) {
    List<Tensor> tensors = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec s = specs.get(i);
      long[] shape = s.shape().clone();
      shape[0] = to - from;
      int bytes = (int) (perRow[i] * s.datatype().byteSize());
      ByteBuffer data = buffers[i].slice(from * bytes, (to - from) * bytes);
      tensors.add(Tensor.of(s.name(), s.datatype(), shape, data.order(buffers[i].order())));
    }
    return tensors;
  }
}
