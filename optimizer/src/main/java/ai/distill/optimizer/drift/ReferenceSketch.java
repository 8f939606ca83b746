package ai.distill.optimizer.drift;

import ai.distill.store.rows.Row;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A compact summary of the rows a model was calibrated on, kept in the INT8 variant's manifest
 * ({@code metrics[reference_sketch]}) so that live inputs can be compared with it ({@link
 * PsiCalculator}). One {@link ColumnSketch} per input column ({@code <input>[<index>]} of the
 * flattened row tensor): float columns as deciles, int64 columns as the shares of their most
 * frequent ids. Immutable and thread-safe.
 *
 * @param rowsSeen rows that fitted the inputs
 * @param rowsSampled rows the bins were computed from (a uniform sample of the rows seen, at most
 *     the builder's {@code maxRows})
 * @param rowsSkipped rows that did not fit the inputs
 * @param inputs the inputs summarized, in column order
 * @param columns one per element of each input, in input order
 */
public record ReferenceSketch(
    long rowsSeen,
    int rowsSampled,
    long rowsSkipped,
    List<InputSpec> inputs,
    List<ColumnSketch> columns) {

  /** The key of the sketch in a manifest's metrics. */
  public static final String METRICS_KEY = "reference_sketch";

  /** Version of the map form; {@link #fromMap} refuses others. */
  public static final int FORMAT = 1;

  /** Float columns are cut at these quantiles: deciles, so 10 bins. */
  public static final int FLOAT_BINS = 10;

  public static final int DEFAULT_TOP_IDS = 20;
  public static final int DEFAULT_MAX_ROWS = 10_000;
  public static final int DEFAULT_MAX_COLUMNS = 1_024;

  /**
   * Shares are rounded to this many decimals in the sketch: far below the 1/10,000 of one sampled
   * row.
   */
  private static final double SHARE_SCALE = 1e6;

  public ReferenceSketch {
    inputs = List.copyOf(inputs);
    columns = List.copyOf(columns);
    int expected = 0;
    for (InputSpec in : inputs) {
      expected += in.size();
    }
    if (columns.size() != expected) {
      throw new IllegalArgumentException(
          "columns : "
              + columns.size()
              + " (expected: "
              + expected
              + ", one per element of "
              + inputs
              + ")");
    }
    int c = 0;
    for (InputSpec in : inputs) {
      for (int i = 0; i < in.size(); i++, c++) {
        ColumnSketch col = columns.get(c);
        boolean kindFits =
            in.kind() == InputKind.FLOAT
                ? col instanceof ColumnSketch.Quantiles
                : col instanceof ColumnSketch.TopIds;
        if (!col.name().equals(in.column(i)) || !kindFits) {
          throw new IllegalArgumentException(
              "columns["
                  + c
                  + "] : "
                  + col.name()
                  + " ("
                  + col.getClass().getSimpleName()
                  + ") (expected: "
                  + in.column(i)
                  + " of a "
                  + in.kind().wireName()
                  + " input)");
        }
      }
    }
  }

  /** A builder over {@code inputs} (name → kind, in column order) with the default bounds. */
  public static Builder builder(Map<String, InputKind> inputs) {
    return new Builder(inputs);
  }

  /** The sketch of {@code rows} with the default bounds. */
  public static ReferenceSketch of(Map<String, InputKind> inputs, Iterable<? extends Row> rows) {
    return builder(inputs).addAll(rows.iterator()).build();
  }

  /** The column named {@code name}, if any. */
  public Optional<ColumnSketch> column(String name) {
    return columns.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** JSON-compatible form: strings, numbers, lists and maps only. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("rows_seen", rowsSeen);
    m.put("rows_sampled", rowsSampled);
    m.put("rows_skipped", rowsSkipped);
    List<Object> ins = new ArrayList<>();
    for (InputSpec in : inputs) {
      Map<String, Object> i = new LinkedHashMap<>();
      i.put("name", in.name());
      i.put("type", in.kind().wireName());
      i.put("size", in.size());
      ins.add(i);
    }
    m.put("inputs", ins);
    List<Object> cols = new ArrayList<>(columns.size());
    for (ColumnSketch c : columns) {
      cols.add(c.toMap());
    }
    m.put("columns", cols);
    return m;
  }

  /**
   * Parses {@link #toMap()}, also after a trip through JSON.
   *
   * @throws IllegalArgumentException naming the first key that does not fit
   */
  public static ReferenceSketch fromMap(Map<?, ?> m) {
    long format = MapReading.number(m, "format");
    if (format != FORMAT) {
      throw new IllegalArgumentException("format : " + format + " (expected: " + FORMAT + ")");
    }
    List<InputSpec> inputs = new ArrayList<>();
    for (Object o : MapReading.items(m, "inputs", null)) {
      if (!(o instanceof Map<?, ?> i)) {
        throw new IllegalArgumentException(
            "inputs : " + o + " (expected: maps with name, type, size)");
      }
      inputs.add(
          new InputSpec(
              MapReading.string(i, "name"),
              InputKind.fromWireName(MapReading.string(i, "type")),
              Math.toIntExact(MapReading.number(i, "size"))));
    }
    List<ColumnSketch> columns = new ArrayList<>();
    for (Object o : MapReading.items(m, "columns", null)) {
      if (!(o instanceof Map<?, ?> c)) {
        throw new IllegalArgumentException("columns : " + o + " (expected: maps)");
      }
      columns.add(ColumnSketch.fromMap(c));
    }
    return new ReferenceSketch(
        MapReading.number(m, "rows_seen"),
        Math.toIntExact(MapReading.number(m, "rows_sampled")),
        MapReading.number(m, "rows_skipped"),
        inputs,
        columns);
  }

  /** The sketch stored in a manifest's metrics under {@link #METRICS_KEY}, if there is one. */
  public static Optional<ReferenceSketch> fromMetrics(Map<String, Object> metrics) {
    Object o = metrics == null ? null : metrics.get(METRICS_KEY);
    if (o == null) {
      return Optional.empty();
    }
    if (!(o instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(METRICS_KEY + " : " + o + " (expected: a map)");
    }
    return Optional.of(fromMap(m));
  }

  /**
   * Builds a sketch from a stream of rows in bounded memory: a uniform reservoir sample of at most
   * {@code maxRows} rows (Algorithm R, seeded so a rebuild is reproducible), about {@code 8 ×
   * maxRows × columns} bytes (3.1 MB for 10,000 rows of 13 float + 26 int64 columns); the number of
   * columns is capped by {@code maxColumns}. Element counts of the inputs are learnt from the first
   * row that has them all; rows that do not fit afterwards are counted and skipped. Not
   * thread-safe.
   */
  public static final class Builder {
    private final Map<String, InputKind> kinds;
    private int maxRows = DEFAULT_MAX_ROWS;
    private int maxColumns = DEFAULT_MAX_COLUMNS;
    private int topIds = DEFAULT_TOP_IDS;
    private long seed = 0x5EEDL;

    private List<InputSpec> inputs;
    private double[][] sample; // [column][slot]
    private SplittableRandom random;
    private long seen;
    private long skipped;
    private String firstSkipReason;

    private Builder(Map<String, InputKind> kinds) {
      if (kinds == null || kinds.isEmpty()) {
        throw new IllegalArgumentException(
            "inputs : " + kinds + " (expected: at least one name → kind)");
      }
      this.kinds = new LinkedHashMap<>(kinds);
    }

    /**
     * Rows kept for the bins (default 10,000); the sample error of a decile share is about 0.003
     * then.
     */
    public Builder maxRows(int maxRows) {
      checkNotStarted();
      if (maxRows < 1) {
        throw new IllegalArgumentException("maxRows : " + maxRows + " (expected: >= 1)");
      }
      this.maxRows = maxRows;
      return this;
    }

    /** Columns a sketch may have (default 1,024); beyond it {@link #add} refuses the first row. */
    public Builder maxColumns(int maxColumns) {
      checkNotStarted();
      if (maxColumns < 1) {
        throw new IllegalArgumentException("maxColumns : " + maxColumns + " (expected: >= 1)");
      }
      this.maxColumns = maxColumns;
      return this;
    }

    /** Ids listed per int64 column (default 20); the rest share the "other" bin. */
    public Builder topIds(int topIds) {
      checkNotStarted();
      if (topIds < 1) {
        throw new IllegalArgumentException("topIds : " + topIds + " (expected: >= 1)");
      }
      this.topIds = topIds;
      return this;
    }

    public Builder seed(long seed) {
      checkNotStarted();
      this.seed = seed;
      return this;
    }

    /**
     * Adds one row; false when it does not fit the inputs (counted and skipped).
     *
     * @throws IllegalArgumentException when the first fitting row has more than {@code maxColumns}
     *     columns
     */
    public boolean add(Row row) {
      if (inputs == null && !start(row)) {
        return skip(
            "inputs missing: " + kinds.keySet() + " (row has: " + row.inputs().keySet() + ")");
      }
      String why = InputSpec.mismatch(inputs, row);
      if (why != null) {
        return skip(why);
      }
      seen++;
      int slot;
      if (seen <= maxRows) {
        slot = (int) (seen - 1);
        if (slot == sample[0].length) {
          for (int c = 0; c < sample.length; c++) {
            sample[c] = Arrays.copyOf(sample[c], (int) Math.min(maxRows, 2L * slot));
          }
        }
      } else {
        long j = random.nextLong(seen);
        if (j >= maxRows) {
          return true;
        }
        slot = (int) j;
      }
      int c = 0;
      for (InputSpec in : inputs) {
        double[] v = row.inputs().get(in.name()).values();
        for (double x : v) {
          sample[c++][slot] = x;
        }
      }
      return true;
    }

    public Builder addAll(Iterator<? extends Row> rows) {
      while (rows.hasNext()) {
        add(rows.next());
      }
      return this;
    }

    /** Rows that did not fit so far. */
    public long rowsSkipped() {
      return skipped;
    }

    /** Why the first skipped row did not fit, or null. */
    public String firstSkipReason() {
      return firstSkipReason;
    }

    /**
     * The sketch of the rows added so far.
     *
     * @throws IllegalStateException when no row fitted the inputs (names why the first one did not)
     */
    public ReferenceSketch build() {
      if (seen == 0) {
        throw new IllegalStateException(
            "no row fits the inputs "
                + kinds
                + " ("
                + skipped
                + " skipped"
                + (firstSkipReason == null ? "" : ", first: " + firstSkipReason)
                + ")");
      }
      int n = (int) Math.min(seen, maxRows);
      List<ColumnSketch> columns = new ArrayList<>(sample.length);
      int c = 0;
      for (InputSpec in : inputs) {
        for (int i = 0; i < in.size(); i++, c++) {
          double[] values = Arrays.copyOf(sample[c], n);
          columns.add(
              in.kind() == InputKind.FLOAT
                  ? quantiles(in.column(i), values)
                  : ReferenceSketch.topIds(in.column(i), values, topIds));
        }
      }
      return new ReferenceSketch(seen, n, skipped, inputs, columns);
    }

    private boolean start(Row row) {
      List<InputSpec> specs = new ArrayList<>();
      long total = 0;
      for (Map.Entry<String, InputKind> e : kinds.entrySet()) {
        var t = row.inputs().get(e.getKey());
        if (t == null || t.size() == 0) {
          return false;
        }
        specs.add(new InputSpec(e.getKey(), e.getValue(), t.size()));
        total += t.size();
      }
      if (total > maxColumns) {
        throw new IllegalArgumentException(
            "inputs "
                + specs
                + " : "
                + total
                + " columns (expected: <= "
                + maxColumns
                + "; raise maxColumns or sketch fewer inputs)");
      }
      inputs = List.copyOf(specs);
      sample = new double[(int) total][Math.min(maxRows, 1_024)];
      random = new SplittableRandom(seed);
      return true;
    }

    private boolean skip(String why) {
      skipped++;
      if (firstSkipReason == null) {
        firstSkipReason = why;
      }
      return false;
    }

    private void checkNotStarted() {
      if (inputs != null) {
        throw new IllegalStateException(
            "the builder has rows already; set its bounds before adding rows");
      }
    }
  }

  /**
   * Deciles of {@code values} (NaN left out): edge k is the smallest value with at least k/10 of
   * the values at or below it; equal edges merge, so ties and constant columns give fewer bins.
   * When the lowest edge is the minimum itself (a point mass of at least 10% there), an extra edge
   * just below it gives values under the reference minimum a bin of their own, with reference share
   * 0: a constant column then has the bins below / equal / above. Shares are the exact fractions of
   * the values per bin.
   */
  static ColumnSketch.Quantiles quantiles(String name, double[] values) {
    double[] sorted = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
    int m = sorted.length;
    if (m == 0) {
      return new ColumnSketch.Quantiles(name, new double[0], new double[0]);
    }
    double[] edges = new double[FLOAT_BINS];
    int e = 0;
    if (sorted[(int) Math.ceil((double) m / FLOAT_BINS) - 1] == sorted[0]
        && sorted[0] != Double.NEGATIVE_INFINITY) {
      edges[e++] = Math.nextDown(sorted[0]);
    }
    for (int k = 1; k < FLOAT_BINS; k++) {
      double edge = sorted[(int) Math.ceil((double) k * m / FLOAT_BINS) - 1];
      if (e == 0 || edge > edges[e - 1]) {
        edges[e++] = edge;
      }
    }
    edges = Arrays.copyOf(edges, e);
    ColumnSketch.Quantiles binning = new ColumnSketch.Quantiles(name, edges, new double[e + 1]);
    long[] counts = new long[e + 1];
    for (double v : sorted) {
      counts[binning.bin(v)]++;
    }
    return new ColumnSketch.Quantiles(name, edges, shares(counts, m));
  }

  /** The {@code k} most frequent ids (ties: the smaller id first) and the share of all others. */
  static ColumnSketch.TopIds topIds(String name, double[] values, int k) {
    Map<Long, long[]> counts = new HashMap<>();
    for (double v : values) {
      counts.computeIfAbsent((long) v, id -> new long[1])[0]++;
    }
    List<Map.Entry<Long, long[]>> top = new ArrayList<>(counts.entrySet());
    top.sort(
        Comparator.<Map.Entry<Long, long[]>>comparingLong(en -> -en.getValue()[0])
            .thenComparingLong(Map.Entry::getKey));
    top = top.subList(0, Math.min(k, top.size()));
    long[] ids = new long[top.size()];
    long[] binCounts = new long[top.size() + 1];
    long listed = 0;
    for (int i = 0; i < ids.length; i++) {
      ids[i] = top.get(i).getKey();
      binCounts[i] = top.get(i).getValue()[0];
      listed += binCounts[i];
    }
    binCounts[ids.length] = values.length - listed;
    return new ColumnSketch.TopIds(name, ids, shares(binCounts, values.length));
  }

  private static double[] shares(long[] counts, long total) {
    double[] s = new double[counts.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.round(counts[i] * SHARE_SCALE / total) / SHARE_SCALE;
    }
    return s;
  }

  @Override
  public String toString() {
    return "ReferenceSketch["
        + columns.size()
        + " columns of "
        + inputs
        + ", "
        + rowsSampled
        + " of "
        + rowsSeen
        + " rows sampled, "
        + rowsSkipped
        + " skipped]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReferenceSketch s
        && rowsSeen == s.rowsSeen
        && rowsSampled == s.rowsSampled
        && rowsSkipped == s.rowsSkipped
        && inputs.equals(s.inputs)
        && toMap().equals(s.toMap());
  }

  @Override
  public int hashCode() {
    return Objects.hash(rowsSeen, rowsSampled, inputs);
  }
}
