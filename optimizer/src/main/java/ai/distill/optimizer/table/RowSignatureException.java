package ai.distill.optimizer.table;

/**
 * A row does not fit a {@link RowTable}'s columns; names the row (its line number) and the input,
 * e.g. {@code row 2: input 'dense' has 3 values, shape [3] (expected: 4 values, shape [4])}.
 */
public final class RowSignatureException extends IllegalArgumentException {

  private final long row;
  private final String input;

  public RowSignatureException(long row, String input, String problem) {
    super("row " + row + ": " + (input == null ? "" : "input '" + input + "' ") + problem);
    this.row = row;
    this.input = input;
  }

  /** The row's line number in its file. */
  public long row() {
    return row;
  }

  /** The input, or null when the problem is the row's label. */
  public String input() {
    return input;
  }
}
