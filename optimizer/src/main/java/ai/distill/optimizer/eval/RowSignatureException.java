package ai.distill.optimizer.eval;

/** A row does not match the model's input signature; names the row (line number) and the input. */
public final class RowSignatureException extends IllegalArgumentException {

    private final long row;
    private final String input;

    public RowSignatureException(long row, String input, String problem) {
        super("row " + row + ": input '" + input + "' " + problem);
        this.row = row;
        this.input = input;
    }

    public long row() {
        return row;
    }

    public String input() {
        return input;
    }
}
