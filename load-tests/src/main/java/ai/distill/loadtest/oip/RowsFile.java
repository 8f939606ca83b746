package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import ai.distill.store.rows.RowsFormatException;
import ai.distill.store.rows.RowsReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads the model inputs of a rows file (DESIGN.md rows format, read with the store's {@link
 * RowsReader}) into memory, translating read errors into messages for the command line.
 */
public final class RowsFile {
  private RowsFile() {}

  /** Up to {@code maxRows} rows of {@code file} (a file, or a directory of capture segments). */
  public static List<InputRow> read(Path file, int maxRows) {
    if (!Files.exists(file)) {
      throw new LoadTestException(
          "rows file not found: " + file + " (pass a JSON Lines file of {\"inputs\": {...}} rows)");
    }
    List<Row> rows;
    try {
      rows = RowsReader.readAll(file, maxRows);
    } catch (RowsFormatException e) {
      throw new LoadTestException("bad rows file: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw new LoadTestException("cannot read rows file " + file + ": " + e.getMessage(), e);
    }
    if (rows.isEmpty()) {
      throw new LoadTestException("rows file " + file + " has no rows");
    }
    List<InputRow> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      out.add(of(row));
    }
    return out;
  }

  public static InputRow of(Row row) {
    Map<String, double[]> inputs = new LinkedHashMap<>();
    for (Map.Entry<String, RowTensor> e : row.inputs().entrySet()) {
      inputs.put(e.getKey(), e.getValue().values());
    }
    return new InputRow(inputs);
  }
}
