package ai.distill.optimizer.table;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Rows held column-wise: one flat array per named input ({@code float[]} for FLOAT, {@code long[]}
 * for INT64, {@code double[]} for the other types rows can carry), optional 0/1 labels, and each
 * row's source line for messages. Built from rows (checked row by row against the columns, the
 * first offending row named in a {@link RowSignatureException}) or from ready columns. Immutable
 * after construction; the arrays are shared with readers, who must not modify them.
 *
 * <pre>{@code
 * RowTable t = RowTable.fromRows(RowTable.inputsOf(model), RowsReader.open(path), 0);
 * RowTable first = t.slice(0, 100);
 * }</pre>
 */
public final class RowTable {

  /** Labels array value of a row without a label. */
  public static final byte NO_LABEL = -1;

  /**
   * One input column.
   *
   * @param name the model input's name
   * @param type the element type the model takes
   * @param dims dimensions after the batch dimension; -1 marks one resolved from the first row
   */
  public record Column(String name, OnnxJavaType type, int[] dims) {
    public Column {
      dims = dims.clone();
    }

    @Override
    public int[] dims() {
      return dims.clone();
    }

    /** Values per row (product of dims); -1 while a dimension is unresolved. */
    public int width() {
      int w = 1;
      for (int d : dims) {
        if (d < 0) {
          return -1;
        }
        w *= d;
      }
      return w;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Column c
          && c.name.equals(name)
          && c.type == type
          && Arrays.equals(c.dims, dims);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
      return name + " " + type + " " + Arrays.toString(dims);
    }
  }

  private final List<Column> columns;
  private final int rows;
  private final Object[] values;
  private final byte[] labels;
  private final long[] lines;

  private RowTable(List<Column> columns, int rows, Object[] values, byte[] labels, long[] lines) {
    this.columns = List.copyOf(columns);
    this.rows = rows;
    this.values = values;
    this.labels = labels;
    this.lines = lines;
  }

  /**
   * The model's graph inputs (initializers excluded) as columns; dynamic dimensions after the batch
   * are -1.
   */
  public static List<Column> inputsOf(OnnxModel model) {
    OnnxMl.GraphProto g = model.graph();
    Set<String> initializers = new HashSet<>();
    g.getInitializerList().forEach(t -> initializers.add(t.getName()));
    List<Column> out = new ArrayList<>();
    for (OnnxMl.ValueInfoProto vi : g.getInputList()) {
      if (initializers.contains(vi.getName()) || !vi.getType().hasTensorType()) {
        continue;
      }
      OnnxMl.TypeProto.Tensor tt = vi.getType().getTensorType();
      int rank = tt.hasShape() ? tt.getShape().getDimCount() : 0;
      int[] dims = new int[Math.max(0, rank - 1)];
      for (int i = 1; i < rank; i++) {
        OnnxMl.TensorShapeProto.Dimension d = tt.getShape().getDim(i);
        dims[i - 1] = d.hasDimValue() ? Math.toIntExact(d.getDimValue()) : -1;
      }
      out.add(new Column(vi.getName(), javaType(tt.getElemType()), dims));
    }
    return out;
  }

  private static OnnxJavaType javaType(int elemType) {
    DataType t = DataType.forNumber(elemType);
    if (t == null) {
      return OnnxJavaType.UNKNOWN;
    }
    return switch (t) {
      case FLOAT -> OnnxJavaType.FLOAT;
      case DOUBLE -> OnnxJavaType.DOUBLE;
      case INT64 -> OnnxJavaType.INT64;
      case INT32 -> OnnxJavaType.INT32;
      case INT16 -> OnnxJavaType.INT16;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case BOOL -> OnnxJavaType.BOOL;
      default -> OnnxJavaType.UNKNOWN;
    };
  }

  /** All of {@code rows}; see {@link #fromRows(List, Iterator, int)}. */
  public static RowTable fromRows(List<Column> columns, List<Row> rows) {
    return fromRows(columns, rows.iterator(), 0);
  }

  /**
   * Reads rows into columns; {@code limit <= 0} reads all. Dynamic dimensions are taken from the
   * first row. Every row must hold every column with the right number of values, FLOAT values
   * finite and INT64 values integral, and a label of 0 or 1 when it has one.
   *
   * @throws RowSignatureException naming the first row (by line) and input that does not fit
   */
  public static RowTable fromRows(List<Column> columns, Iterator<Row> rows, int limit) {
    List<Column> cols = new ArrayList<>(columns);
    int capacity = 1024;
    Object[] values = new Object[cols.size()];
    byte[] labels = new byte[capacity];
    long[] lines = new long[capacity];
    int n = 0;
    while ((limit <= 0 || n < limit) && rows.hasNext()) {
      Row row = rows.next();
      if (n == 0) {
        for (int k = 0; k < cols.size(); k++) {
          cols.set(k, resolve(cols.get(k), row));
          values[k] = allocate(cols.get(k), capacity);
        }
      }
      if (n == capacity) {
        capacity = (int) Math.min(Integer.MAX_VALUE - 8, capacity * 2L);
        for (int k = 0; k < cols.size(); k++) {
          values[k] = resize(values[k], cols.get(k).width() * capacity);
        }
        labels = Arrays.copyOf(labels, capacity);
        lines = Arrays.copyOf(lines, capacity);
      }
      for (int k = 0; k < cols.size(); k++) {
        put(cols.get(k), row, values[k], n);
      }
      Integer label = row.label();
      if (label != null && label != 0 && label != 1) {
        throw new RowSignatureException(row.line(), null, "label " + label + " (expected: 0 or 1)");
      }
      labels[n] = label == null ? NO_LABEL : label.byteValue();
      lines[n] = row.line();
      n++;
    }
    for (int k = 0; k < cols.size(); k++) {
      if (n == 0) {
        cols.set(k, zeroWidth(cols.get(k)));
        values[k] = allocate(cols.get(k), 0);
      } else {
        values[k] = resize(values[k], cols.get(k).width() * n);
      }
    }
    return new RowTable(cols, n, values, Arrays.copyOf(labels, n), Arrays.copyOf(lines, n));
  }

  /**
   * A table from ready columns (one array per column, in order, of {@code rows × width} values,
   * typed as {@link #values} describes); {@code labels} (0, 1 or {@link #NO_LABEL}) may be null.
   * Rows are numbered 1, 2, … for messages. The arrays are taken, not copied.
   */
  public static RowTable of(List<Column> columns, int rows, Object[] values, byte[] labels) {
    if (values.length != columns.size()) {
      throw new IllegalArgumentException(
          "values : "
              + values.length
              + " arrays (expected: "
              + columns.size()
              + ", one per column)");
    }
    for (int k = 0; k < values.length; k++) {
      Column c = columns.get(k);
      if (c.width() < 0) {
        throw new IllegalArgumentException(
            "column '"
                + c.name()
                + "' has dynamic dims "
                + Arrays.toString(c.dims())
                + " (expected: fixed dims when building from arrays)");
      }
      int len = length(values[k]);
      if (len != (long) rows * c.width() || values[k].getClass() != allocate(c, 0).getClass()) {
        throw new IllegalArgumentException(
            "column '"
                + c.name()
                + "' : "
                + len
                + " values of "
                + values[k].getClass().getSimpleName()
                + " (expected: rows * "
                + c.width()
                + " = "
                + (long) rows * c.width()
                + " of "
                + allocate(c, 0).getClass().getSimpleName()
                + ")");
      }
    }
    if (labels != null && labels.length != rows) {
      throw new IllegalArgumentException(
          "labels : " + labels.length + " (expected: " + rows + ", one per row)");
    }
    byte[] l = labels != null ? labels : new byte[rows];
    if (labels == null) {
      Arrays.fill(l, NO_LABEL);
    }
    long[] lines = new long[rows];
    for (int r = 0; r < rows; r++) {
      lines[r] = r + 1;
    }
    return new RowTable(columns, rows, values.clone(), l, lines);
  }

  private static Column zeroWidth(Column c) {
    int[] dims = c.dims();
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Math.max(0, dims[i]);
    }
    return new Column(c.name(), c.type(), dims);
  }

  private static Column resolve(Column c, Row first) {
    if (c.width() >= 0) {
      return c;
    }
    RowTensor t = tensor(c, first);
    int[] dims = c.dims();
    int[] rs = t.shape();
    if (rs.length != dims.length) {
      throw new RowSignatureException(
          first.line(),
          c.name(),
          "has shape "
              + Arrays.toString(rs)
              + " (expected rank "
              + dims.length
              + " to match "
              + Arrays.toString(dims)
              + ")");
    }
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        dims[i] = rs[i];
      }
    }
    return new Column(c.name(), c.type(), dims);
  }

  private static RowTensor tensor(Column c, Row row) {
    RowTensor t = row.inputs().get(c.name());
    if (t == null) {
      throw new RowSignatureException(
          row.line(), c.name(), "is missing (the row has " + row.inputs().keySet() + ")");
    }
    return t;
  }

  private static void put(Column c, Row row, Object dst, int r) {
    double[] v = tensor(c, row).values();
    int w = c.width();
    if (v.length != w) {
      throw new RowSignatureException(
          row.line(),
          c.name(),
          "has "
              + v.length
              + " values, shape "
              + Arrays.toString(tensor(c, row).shape())
              + " (expected: "
              + w
              + " values, shape "
              + Arrays.toString(c.dims())
              + ")");
    }
    int off = r * w;
    if (dst instanceof float[] f) {
      for (int j = 0; j < w; j++) {
        float x = (float) v[j];
        if (!Float.isFinite(x)) {
          throw new RowSignatureException(
              row.line(), c.name(), "value " + j + " is " + v[j] + " (expected: a finite float)");
        }
        f[off + j] = x;
      }
    } else if (dst instanceof long[] l) {
      for (int j = 0; j < w; j++) {
        double d = v[j];
        if (d != Math.rint(d) || Math.abs(d) > 9.007199254740992E15) {
          throw new RowSignatureException(
              row.line(),
              c.name(),
              "value " + j + " is " + d + " (expected: an integer id for an INT64 input)");
        }
        l[off + j] = (long) d;
      }
    } else {
      if (!TableScorer.canFeed(c.type())) {
        throw new RowSignatureException(
            row.line(), c.name(), "has type " + c.type() + ", which rows cannot carry");
      }
      System.arraycopy(v, 0, (double[]) dst, off, w);
    }
  }

  private static Object allocate(Column c, int rows) {
    int n = Math.max(0, c.width()) * rows;
    return switch (c.type()) {
      case FLOAT -> new float[n];
      case INT64 -> new long[n];
      default -> new double[n];
    };
  }

  private static Object resize(Object a, int n) {
    if (a instanceof float[] f) {
      return Arrays.copyOf(f, n);
    }
    if (a instanceof long[] l) {
      return Arrays.copyOf(l, n);
    }
    return Arrays.copyOf((double[]) a, n);
  }

  private static int length(Object a) {
    if (a instanceof float[] f) {
      return f.length;
    }
    if (a instanceof long[] l) {
      return l.length;
    }
    return ((double[]) a).length;
  }

  public List<Column> columns() {
    return columns;
  }

  public int rows() {
    return rows;
  }

  /** The index of column {@code name}, or -1. */
  public int indexOf(String name) {
    for (int k = 0; k < columns.size(); k++) {
      if (columns.get(k).name().equals(name)) {
        return k;
      }
    }
    return -1;
  }

  /**
   * Column k's values, {@code rows × width}: float[] (FLOAT), long[] (INT64) or double[]. Shared;
   * do not modify.
   */
  public Object values(int k) {
    return values[k];
  }

  /** Labels per row: 0, 1, or {@link #NO_LABEL}. Shared; do not modify. */
  public byte[] labels() {
    return labels;
  }

  /** The source line of row {@code r} (0-based), for messages. */
  public long line(int r) {
    return lines[r];
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

  /** The labels of the labelled rows, in row order. */
  public int[] labelValues() {
    int[] y = new int[labelledRows()];
    int k = 0;
    for (byte b : labels) {
      if (b >= 0) {
        y[k++] = b;
      }
    }
    return y;
  }

  /** The entries of {@code perRow} (one per row) that belong to labelled rows, in row order. */
  public float[] labelledOnly(float[] perRow) {
    if (perRow.length != rows) {
      throw new IllegalArgumentException(
          "values : " + perRow.length + " for " + rows + " rows (expected: one per row)");
    }
    float[] out = new float[labelledRows()];
    int k = 0;
    for (int i = 0; i < rows; i++) {
      if (labels[i] >= 0) {
        out[k++] = perRow[i];
      }
    }
    return out;
  }

  /** Rows {@code [from, from + count)} as a new table. */
  public RowTable slice(int from, int count) {
    if (from < 0 || count < 0 || from + count > rows) {
      throw new IllegalArgumentException(
          "slice : [" + from + ", " + (from + count) + ") (expected: within [0, " + rows + "])");
    }
    int[] r = new int[count];
    for (int i = 0; i < count; i++) {
      r[i] = from + i;
    }
    return select(r);
  }

  /** The given rows (0-based, repeats allowed), in order, as a new table. */
  public RowTable select(int[] rowNumbers) {
    Object[] out = new Object[values.length];
    for (int k = 0; k < values.length; k++) {
      int w = columns.get(k).width();
      Object dst = allocate(columns.get(k), rowNumbers.length);
      for (int r = 0; r < rowNumbers.length; r++) {
        System.arraycopy(values[k], rowNumbers[r] * w, dst, r * w, w);
      }
      out[k] = dst;
    }
    byte[] l = new byte[rowNumbers.length];
    long[] ln = new long[rowNumbers.length];
    for (int r = 0; r < rowNumbers.length; r++) {
      l[r] = labels[rowNumbers[r]];
      ln[r] = lines[rowNumbers[r]];
    }
    return new RowTable(columns, rowNumbers.length, out, l, ln);
  }
}
