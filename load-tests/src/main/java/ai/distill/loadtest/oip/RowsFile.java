package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the model inputs of a rows file (JSON Lines, {@code {"inputs": {...}, "label": ...}}):
 * nested or flat lists are flattened; unknown fields are ignored; a torn last line is skipped.
 */
public final class RowsFile {
  private RowsFile() {}

  /** Up to {@code maxRows} rows of {@code file}; fails with a message naming the file and line. */
  public static List<InputRow> read(Path file, int maxRows) {
    if (!Files.isRegularFile(file)) {
      throw new LoadTestException("rows file not found: " + file + " (pass a JSON Lines file of {\"inputs\": {...}} rows)");
    }
    List<InputRow> rows = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      String pendingError = null;
      while (rows.size() < maxRows && (line = reader.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        if (pendingError != null) {
          throw new LoadTestException(pendingError);
        }
        try {
          rows.add(parse(new JsonObject(line), file, lineNo));
        } catch (DecodeException e) {
          // Only a torn last line may be skipped; remember the error until we know it was the last.
          pendingError = file + ":" + lineNo + ": not a JSON object (" + e.getMessage() + ")";
        }
      }
    } catch (IOException e) {
      throw new LoadTestException("cannot read rows file " + file + ": " + e.getMessage(), e);
    }
    if (rows.isEmpty()) {
      throw new LoadTestException("rows file " + file + " has no rows");
    }
    return rows;
  }

  static InputRow parse(JsonObject json, Path file, int lineNo) {
    JsonObject inputs = json.getJsonObject("inputs");
    if (inputs == null || inputs.isEmpty()) {
      throw new LoadTestException(file + ":" + lineNo + ": row has no \"inputs\" object");
    }
    Map<String, double[]> tensors = new LinkedHashMap<>();
    for (String name : inputs.fieldNames()) {
      List<Double> values = new ArrayList<>();
      try {
        flatten(inputs.getValue(name), values);
      } catch (RuntimeException e) {
        throw new LoadTestException(file + ":" + lineNo + ": input '" + name + "' is not a number or list of numbers");
      }
      double[] flat = new double[values.size()];
      for (int i = 0; i < flat.length; i++) {
        flat[i] = values.get(i);
      }
      tensors.put(name, flat);
    }
    return new InputRow(tensors);
  }

  private static void flatten(Object value, List<Double> out) {
    if (value instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        flatten(array.getValue(i), out);
      }
    } else if (value instanceof Number n) {
      out.add(n.doubleValue());
    } else if (value instanceof Boolean b) {
      out.add(b ? 1.0 : 0.0);
    } else {
      throw new IllegalArgumentException(String.valueOf(value));
    }
  }
}
