package ai.distill.store.rows;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

/**
 * Streams rows from JSON Lines files (the rows format of DESIGN.md), one file or several capture
 * segments in order.
 *
 * <pre>{@code
 * try (RowsReader rows = RowsReader.open(Path.of("rows.jsonl"))) {
 *     while (rows.hasNext()) {
 *         Row row = rows.next();
 *         float[] dense = row.input("dense").toFloats();
 *     }
 * }
 * }</pre>
 *
 * Blank lines are skipped. An unparseable <em>last</em> line of a file is a write torn by a crash:
 * it is skipped and counted ({@link #skippedTornLines()}); an unparseable line anywhere else, a row
 * without {@code inputs}, a ragged tensor or a NaN/Infinity literal throws {@link
 * RowsFormatException} naming the file and line. After such an error the reader is closed ({@link
 * #hasNext()} is false). Files ending in {@code .gz} are decompressed. Not thread-safe.
 */
public final class RowsReader implements Iterator<Row>, AutoCloseable {

  static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(
              JsonReadFeature
                  .ALLOW_NON_NUMERIC_NUMBERS) // parsed so they can be rejected with a clear message
          .build();
  static final ObjectMapper MAPPER = new ObjectMapper(JSON);

  private final List<Path> files;
  private int fileIndex = -1;
  private Path file;
  private BufferedReader reader;
  private long lineNo;
  private Row next;
  private int skippedTorn;
  private long rowsRead;
  private boolean closed;
  private final TensorParser tensors = new TensorParser();

  private RowsReader(List<Path> files) {
    this.files = List.copyOf(files);
  }

  /**
   * Opens one rows file, or a directory whose {@code *.jsonl} and {@code *.jsonl.gz} files (capture
   * segments) are read in name order.
   *
   * @throws UncheckedIOException when the path cannot be read
   */
  public static RowsReader open(Path fileOrDir) {
    if (Files.isDirectory(fileOrDir)) {
      return openAll(segments(fileOrDir));
    }
    if (!Files.isReadable(fileOrDir)) {
      throw new UncheckedIOException(
          "rows file " + fileOrDir + " does not exist or is not readable",
          new java.nio.file.NoSuchFileException(fileOrDir.toString()));
    }
    return openAll(List.of(fileOrDir));
  }

  /** Reads the given files one after the other (line numbers restart at 1 in each). */
  public static RowsReader openAll(List<Path> files) {
    return new RowsReader(files);
  }

  /** The rows files of a directory ({@code *.jsonl}, {@code *.jsonl.gz}), sorted by name. */
  public static List<Path> segments(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if ((n.endsWith(".jsonl") || n.endsWith(".jsonl.gz")) && Files.isRegularFile(p)) {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list rows directory " + dir + ": " + e, e);
    }
    out.sort(null);
    return out;
  }

  /**
   * Reads up to {@code limit} rows ({@code limit <= 0}: all) from a file or a directory of
   * segments.
   */
  public static List<Row> readAll(Path fileOrDir, int limit) {
    List<Row> rows = new ArrayList<>();
    try (RowsReader r = open(fileOrDir)) {
      while ((limit <= 0 || rows.size() < limit) && r.hasNext()) {
        rows.add(r.next());
      }
    }
    return rows;
  }

  @Override
  public boolean hasNext() {
    if (next == null && !closed) {
      next = advance();
    }
    return next != null;
  }

  @Override
  public Row next() {
    if (!hasNext()) {
      throw new NoSuchElementException("no more rows");
    }
    Row r = next;
    next = null;
    rowsRead++;
    return r;
  }

  /** Torn last lines skipped so far (at most one per file). */
  public int skippedTornLines() {
    return skippedTorn;
  }

  /** Rows returned so far. */
  public long rowsRead() {
    return rowsRead;
  }

  /** The file being read (null before the first and after the last). */
  public Path currentFile() {
    return file;
  }

  @Override
  public void close() {
    closed = true;
    next = null;
    closeCurrent();
  }

  private Row advance() {
    while (true) {
      if (reader == null && !openNextFile()) {
        return null;
      }
      String line;
      try {
        line = reader.readLine();
      } catch (EOFException e) {
        // a compressed segment cut short by a crash: its tail is torn
        skippedTorn++;
        closeCurrent();
        continue;
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read rows file " + file + " at line " + (lineNo + 1) + ": " + e, e);
      }
      if (line == null) {
        closeCurrent();
        continue;
      }
      lineNo++;
      if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
        line = line.substring(1); // UTF-8 byte order mark written by some editors
      }
      if (line.isBlank()) {
        continue;
      }
      try {
        return parse(line);
      } catch (RowsFormatException e) {
        close();
        throw e;
      } catch (JsonParseException | RowsSyntaxException e) {
        long bad = lineNo;
        if (restIsBlank()) {
          skippedTorn++;
          closeCurrent();
          continue;
        }
        Path where = file;
        close();
        throw new RowsFormatException(where, bad, "not a JSON row: " + syntaxMessage(e), e);
      } catch (IOException e) {
        Path where = file;
        close();
        throw new RowsFormatException(where, lineNo, "not a JSON row: " + e.getMessage(), e);
      }
    }
  }

  private Row parse(String line) throws IOException {
    Map<String, RowTensor> inputs = null;
    Integer label = null;
    ObjectNode extra = null;
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new RowsSyntaxException("expected a JSON object");
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken v = p.nextToken();
        switch (field) {
          case "inputs" -> inputs = parseInputs(p, v);
          case "label" -> label = parseLabel(p, v);
          default -> {
            JsonNode node = MAPPER.readTree(p);
            String bad = firstNonFinite(node, field);
            if (bad != null) {
              throw fail("NaN/Infinity is not allowed (" + bad + ")");
            }
            if (extra == null) {
              extra = MAPPER.createObjectNode();
            }
            extra.set(field, node);
          }
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw new RowsSyntaxException("expected a field name or '}'");
      }
      if (p.nextToken() != null) {
        throw new RowsSyntaxException("unexpected content after the row's closing '}'");
      }
    }
    if (inputs == null) {
      throw fail(
          "missing \"inputs\" (expected: {\"inputs\": {\"<input name>\": [...], ...}, \"label\": 0|1})");
    }
    return new Row(lineNo, inputs, label, extra);
  }

  private Map<String, RowTensor> parseInputs(JsonParser p, JsonToken t) throws IOException {
    if (t != JsonToken.START_OBJECT) {
      throw fail(
          "\"inputs\" must be an object of input name to list of numbers, got " + describe(t));
    }
    Map<String, RowTensor> inputs = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      String problem = tensors.parse(p);
      if (problem != null) {
        throw fail("inputs." + name + ": " + problem);
      }
      inputs.put(name, tensors.result());
    }
    return inputs;
  }

  private Integer parseLabel(JsonParser p, JsonToken t) throws IOException {
    return switch (t) {
      case VALUE_NULL -> null;
      case VALUE_TRUE -> 1;
      case VALUE_FALSE -> 0;
      case VALUE_NUMBER_INT -> {
        long l = p.getLongValue();
        if (l != (int) l) {
          throw fail("\"label\" : " + l + " (expected: 0 or 1)");
        }
        yield (int) l;
      }
      case VALUE_NUMBER_FLOAT -> {
        double d = p.getDoubleValue();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
          throw fail("\"label\" : " + p.getText() + " (expected: 0 or 1)");
        }
        yield (int) d;
      }
      default -> throw fail("\"label\" : " + describe(t) + " (expected: 0 or 1)");
    };
  }

  private RowsFormatException fail(String reason) {
    return new RowsFormatException(file, lineNo, reason);
  }

  static String describe(JsonToken t) {
    return t == null
        ? "nothing"
        : switch (t) {
          case START_OBJECT -> "an object";
          case START_ARRAY -> "a list";
          case VALUE_STRING -> "a string";
          case VALUE_NULL -> "null";
          case VALUE_TRUE, VALUE_FALSE -> "a boolean";
          default -> "a number";
        };
  }

  private static String firstNonFinite(JsonNode node, String path) {
    if (node.isFloatingPointNumber()) {
      return Double.isFinite(node.doubleValue()) ? null : path;
    }
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        String bad = firstNonFinite(node.get(i), path + "[" + i + "]");
        if (bad != null) {
          return bad;
        }
      }
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String bad = firstNonFinite(e.getValue(), path + "." + e.getKey());
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  private static String syntaxMessage(Exception e) {
    if (e instanceof JsonParseException jpe) {
      return jpe.getOriginalMessage();
    }
    return e.getMessage();
  }

  /**
   * After a bad line: true when only blank lines follow in this file (so the bad line is a torn
   * tail).
   */
  private boolean restIsBlank() {
    try {
      String l;
      while ((l = reader.readLine()) != null) {
        if (!l.isBlank()) {
          return false;
        }
      }
      return true;
    } catch (EOFException e) {
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read rows file " + file + ": " + e, e);
    }
  }

  private boolean openNextFile() {
    if (++fileIndex >= files.size()) {
      file = null;
      return false;
    }
    file = files.get(fileIndex);
    lineNo = 0;
    try {
      InputStream in = Files.newInputStream(file);
      if (file.getFileName().toString().endsWith(".gz")) {
        try {
          in = new GZIPInputStream(in, 1 << 16);
        } catch (EOFException e) {
          in.close();
          skippedTorn++; // a compressed segment torn before its header was complete
          return openNextFile();
        }
      }
      reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open rows file " + file + ": " + e, e);
    }
  }

  private void closeCurrent() {
    if (reader != null) {
      try {
        reader.close();
      } catch (IOException e) {
        // read-only: nothing to lose
      }
      reader = null;
    }
  }

  /**
   * A structural JSON problem found by this reader rather than by Jackson; treated like a syntax
   * error.
   */
  static final class RowsSyntaxException extends IOException {
    private static final long serialVersionUID = 1L;

    RowsSyntaxException(String message) {
      super(message);
    }
  }
}
