package ai.distill.store.rows;

import java.nio.file.Path;

/**
 * A rows file that is not valid JSON Lines rows; the message names the file and the 1-based line.
 */
public class RowsFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long line;

  public RowsFormatException(Path file, long line, String reason) {
    this(file, line, reason, null);
  }

  public RowsFormatException(Path file, long line, String reason, Throwable cause) {
    super((file == null ? "rows" : file.toString()) + ":" + line + ": " + reason, cause);
    this.file = file;
    this.line = line;
  }

  /** The file, or null when reading from a stream. */
  public Path file() {
    return file;
  }

  /** The 1-based line number. */
  public long line() {
    return line;
  }
}
