package ai.distill.optimizer.distill;

import ai.distill.optimizer.train.TrainingSet;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Rows shaped for one teacher signature, stored column-wise per input in flat arrays (float[] for
 * FLOAT inputs, long[] for INT64 inputs) plus optional labels. Built from rows files (checked
 * against the signature, row by row) or from a generator. Immutable after construction; shares
 * its arrays with slices only through copies.
 */
public final class InputTable {

    private final TeacherSignature signature;
    private final int rows;
    private final Object[] values;
    private final byte[] labels;

    InputTable(TeacherSignature signature, int rows, Object[] values, byte[] labels) {
        this.signature = signature;
        this.rows = rows;
        this.values = values;
        this.labels = labels;
    }

    /**
     * Reads rows for {@code signature}; {@code limit <= 0} reads all. Each row must hold every teacher
     * input with the right number of values (INT64 inputs integral), finite values, and a label of 0 or 1
     * when it has one; the first offending row is named in an {@link IllegalArgumentException}.
     */
    public static InputTable fromRows(TeacherSignature signature, Iterator<Row> rows, int limit) {
        List<TeacherSignature.Input> inputs = signature.inputs();
        int capacity = 1024;
        Object[] values = new Object[inputs.size()];
        for (int k = 0; k < inputs.size(); k++) {
            values[k] = allocate(inputs.get(k), capacity);
        }
        byte[] labels = new byte[capacity];
        int n = 0;
        while ((limit <= 0 || n < limit) && rows.hasNext()) {
            Row row = rows.next();
            if (n == capacity) {
                capacity = Math.min(Integer.MAX_VALUE - 8, capacity * 2);
                for (int k = 0; k < inputs.size(); k++) {
                    values[k] = grow(values[k], inputs.get(k), capacity);
                }
                labels = Arrays.copyOf(labels, capacity);
            }
            String where = "row " + (n + 1) + " (line " + row.line() + ")";
            for (int k = 0; k < inputs.size(); k++) {
                TeacherSignature.Input in = inputs.get(k);
                RowTensor t = row.inputs().get(in.name());
                if (t == null) {
                    throw new IllegalArgumentException(where + " has no input '" + in.name() + "' (the teacher's inputs: "
                            + inputs.stream().map(TeacherSignature.Input::name).toList() + "; rows have "
                            + row.inputs().keySet() + ")");
                }
                double[] v = t.values();
                if (v.length != in.width()) {
                    throw new IllegalArgumentException(where + ": input '" + in.name() + "' has " + v.length
                            + " values, shape " + Arrays.toString(t.shape()) + " (expected: " + in.width()
                            + " values, shape " + Arrays.toString(in.dims()) + ")");
                }
                int off = n * in.width();
                if (in.kind() == TeacherSignature.Kind.DENSE) {
                    float[] dst = (float[]) values[k];
                    for (int j = 0; j < v.length; j++) {
                        float f = (float) v[j];
                        if (!Float.isFinite(f)) {
                            throw new IllegalArgumentException(where + ": input '" + in.name() + "' value " + j
                                    + " is " + v[j] + " (expected: a finite float)");
                        }
                        dst[off + j] = f;
                    }
                } else {
                    long[] dst = (long[]) values[k];
                    for (int j = 0; j < v.length; j++) {
                        double d = v[j];
                        if (d != Math.rint(d) || Math.abs(d) > 9.007199254740992E15) {
                            throw new IllegalArgumentException(where + ": input '" + in.name() + "' value " + j
                                    + " is " + d + " (expected: an integer id for an INT64 input)");
                        }
                        dst[off + j] = (long) d;
                    }
                }
            }
            Integer label = row.label();
            if (label != null && label != 0 && label != 1) {
                throw new IllegalArgumentException(where + ": label " + label + " (expected: 0 or 1)");
            }
            labels[n] = label == null ? (byte) -1 : label.byteValue();
            n++;
        }
        for (int k = 0; k < inputs.size(); k++) {
            values[k] = grow(values[k], inputs.get(k), n);
        }
        return new InputTable(signature, n, values, Arrays.copyOf(labels, n));
    }

    /** A table from already-built columns (one array per input, in signature order); labels may be null. */
    public static InputTable of(TeacherSignature signature, int rows, Object[] columns, byte[] labels) {
        List<TeacherSignature.Input> inputs = signature.inputs();
        if (columns.length != inputs.size()) {
            throw new IllegalArgumentException("columns : " + columns.length + " (expected: " + inputs.size() + ", one per input)");
        }
        for (int k = 0; k < columns.length; k++) {
            TeacherSignature.Input in = inputs.get(k);
            int len = in.kind() == TeacherSignature.Kind.DENSE ? ((float[]) columns[k]).length : ((long[]) columns[k]).length;
            if (len != (long) rows * in.width()) {
                throw new IllegalArgumentException("input '" + in.name() + "' : " + len + " values (expected: rows * "
                        + in.width() + " = " + (long) rows * in.width() + ")");
            }
        }
        byte[] l = labels != null ? labels.clone() : new byte[rows];
        if (labels == null) {
            Arrays.fill(l, (byte) -1);
        }
        return new InputTable(signature, rows, columns.clone(), l);
    }

    private static Object allocate(TeacherSignature.Input in, int rows) {
        return in.kind() == TeacherSignature.Kind.DENSE ? new float[rows * in.width()] : new long[rows * in.width()];
    }

    private static Object grow(Object a, TeacherSignature.Input in, int rows) {
        return a instanceof float[] f ? Arrays.copyOf(f, rows * in.width()) : Arrays.copyOf((long[]) a, rows * in.width());
    }

    public TeacherSignature signature() {
        return signature;
    }

    public int rows() {
        return rows;
    }

    /** The values of input k (signature order): float[] or long[] of rows × width. Shared; do not modify. */
    public Object column(int k) {
        return values[k];
    }

    /** Labels per row: 0, 1, or -1 for none. Shared; do not modify. */
    public byte[] labels() {
        return labels;
    }

    /** Rows that carry a label. */
    public int labelledRows() {
        int c = 0;
        for (byte b : labels) {
            if (b >= 0) {
                c++;
            }
        }
        return c;
    }

    /** The given rows, in order, as a new table. */
    public InputTable select(int[] rowNumbers) {
        List<TeacherSignature.Input> inputs = signature.inputs();
        Object[] out = new Object[values.length];
        for (int k = 0; k < values.length; k++) {
            int w = inputs.get(k).width();
            Object dst = allocate(inputs.get(k), rowNumbers.length);
            for (int r = 0; r < rowNumbers.length; r++) {
                System.arraycopy(values[k], rowNumbers[r] * w, dst, r * w, w);
            }
            out[k] = dst;
        }
        byte[] l = new byte[rowNumbers.length];
        for (int r = 0; r < rowNumbers.length; r++) {
            l[r] = labels[rowNumbers[r]];
        }
        return new InputTable(signature, rowNumbers.length, out, l);
    }

    /** Rows {@code [from, from + count)} as store rows (inputs with their shapes, label when present). */
    public List<Row> toRows(int from, int count) {
        List<TeacherSignature.Input> inputs = signature.inputs();
        List<Row> out = new java.util.ArrayList<>(count);
        for (int r = from; r < from + count; r++) {
            java.util.Map<String, RowTensor> m = new java.util.LinkedHashMap<>();
            for (int k = 0; k < inputs.size(); k++) {
                TeacherSignature.Input in = inputs.get(k);
                int w = in.width();
                double[] v = new double[w];
                if (values[k] instanceof float[] f) {
                    for (int j = 0; j < w; j++) {
                        v[j] = f[r * w + j];
                    }
                } else {
                    long[] l = (long[]) values[k];
                    for (int j = 0; j < w; j++) {
                        v[j] = l[r * w + j];
                    }
                }
                m.put(in.name(), new RowTensor(in.dims(), v));
            }
            out.add(new Row(r + 1, m, labels[r] < 0 ? null : (int) labels[r], null));
        }
        return out;
    }

    /** The student's view: INT64 inputs' values as categorical columns, FLOAT inputs' as dense features. */
    public TrainingSet toTrainingSet() {
        int columns = signature.categoricalColumns();
        int dense = signature.denseWidth();
        long[] ids = new long[rows * columns];
        float[] d = new float[rows * dense];
        int idOff = 0;
        int denseOff = 0;
        List<TeacherSignature.Input> inputs = signature.inputs();
        for (int k = 0; k < inputs.size(); k++) {
            TeacherSignature.Input in = inputs.get(k);
            int w = in.width();
            for (int r = 0; r < rows; r++) {
                if (in.kind() == TeacherSignature.Kind.CATEGORICAL) {
                    System.arraycopy(values[k], r * w, ids, r * columns + idOff, w);
                } else {
                    System.arraycopy(values[k], r * w, d, r * dense + denseOff, w);
                }
            }
            if (in.kind() == TeacherSignature.Kind.CATEGORICAL) {
                idOff += w;
            } else {
                denseOff += w;
            }
        }
        return new TrainingSet(rows, columns, ids, dense, d);
    }
}
