package ai.distill.optimizer.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The reference distribution of one input column as bins with a reference share each: {@link
 * Quantiles} for float columns, {@link TopIds} for int64 columns. Immutable and thread-safe.
 */
public sealed interface ColumnSketch permits ColumnSketch.Quantiles, ColumnSketch.TopIds {

  /** The column name, {@code <input>[<index>]}. */
  String name();

  /** Number of bins; 0 when the reference had no usable value in this column. */
  int bins();

  /** The reference share of {@code bin}, in [0, 1]; the shares sum to 1 up to rounding. */
  double share(int bin);

  /** The bin {@code value} falls in, or -1 when it is not counted (NaN in a float column). */
  int bin(double value);

  /** JSON-compatible form: strings, numbers, lists and maps only. */
  Map<String, Object> toMap();

  /**
   * Parses {@link #toMap()}: a map with {@code edges} is {@link Quantiles}, one with {@code ids}
   * {@link TopIds}.
   */
  static ColumnSketch fromMap(Map<?, ?> m) {
    String name = MapReading.string(m, "name");
    double[] shares = MapReading.doubles(m, "shares", name);
    if (m.containsKey("edges")) {
      return new Quantiles(name, MapReading.doubles(m, "edges", name), shares);
    }
    if (m.containsKey("ids")) {
      return new TopIds(name, MapReading.longs(m, "ids", name), shares);
    }
    throw new IllegalArgumentException(
        "column "
            + name
            + " : keys "
            + m.keySet()
            + " (expected: edges for a float column or ids for an int64 column)");
  }

  /**
   * Float column: bin {@code i} holds the values in {@code (edges[i-1], edges[i]]}, the first bin
   * everything up to {@code edges[0]}, the last everything above the last edge. So {@code
   * edges.length + 1} bins.
   */
  final class Quantiles implements ColumnSketch {
    private final String name;
    private final double[] edges;
    private final double[] shares;

    /**
     * @param edges strictly increasing, not NaN; @param shares {@code edges.length + 1} values, or
     *     none
     */
    public Quantiles(String name, double[] edges, double[] shares) {
      this.name = Objects.requireNonNull(name, "name");
      this.edges = edges.clone();
      this.shares = shares.clone();
      for (int i = 0; i < edges.length; i++) {
        if (Double.isNaN(edges[i]) || i > 0 && !(edges[i - 1] < edges[i])) {
          throw new IllegalArgumentException(
              "column "
                  + name
                  + " edges : "
                  + Arrays.toString(edges)
                  + " (expected: strictly increasing numbers)");
        }
      }
      if (shares.length != 0 && shares.length != edges.length + 1) {
        throw new IllegalArgumentException(
            "column "
                + name
                + " shares : "
                + shares.length
                + " values (expected: "
                + (edges.length + 1)
                + ", one per bin)");
      }
      checkShares(name, this.shares);
    }

    @Override
    public String name() {
      return name;
    }

    public double[] edges() {
      return edges.clone();
    }

    @Override
    public int bins() {
      return shares.length;
    }

    @Override
    public double share(int bin) {
      return shares[bin];
    }

    @Override
    public int bin(double value) {
      if (Double.isNaN(value) || shares.length == 0) {
        return -1;
      }
      int i = Arrays.binarySearch(edges, value);
      // found: the value sits on edge i and belongs to bin i; not found: -(insertion point) - 1
      return i >= 0 ? i : -i - 1;
    }

    @Override
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("edges", MapReading.list(edges));
      m.put("shares", MapReading.list(shares));
      return m;
    }
  }

  /**
   * Int64 column: one bin per listed id (the most frequent ids of the reference, most frequent
   * first) and a last bin, "other", for every id not listed. So {@code ids.length + 1} bins.
   */
  final class TopIds implements ColumnSketch {
    private final String name;
    private final long[] ids;
    private final double[] shares;
    private final Map<Long, Integer> binOfId;

    /**
     * @param ids distinct; @param shares {@code ids.length + 1} values (the last is "other"), or
     *     none
     */
    public TopIds(String name, long[] ids, double[] shares) {
      this.name = Objects.requireNonNull(name, "name");
      this.ids = ids.clone();
      this.shares = shares.clone();
      if (shares.length != 0 && shares.length != ids.length + 1) {
        throw new IllegalArgumentException(
            "column "
                + name
                + " shares : "
                + shares.length
                + " values (expected: "
                + (ids.length + 1)
                + ", one per id and one for other ids)");
      }
      checkShares(name, this.shares);
      binOfId = new HashMap<>();
      for (int i = 0; i < ids.length; i++) {
        if (binOfId.put(ids[i], i) != null) {
          throw new IllegalArgumentException(
              "column " + name + " ids : " + ids[i] + " listed twice (expected: distinct ids)");
        }
      }
    }

    @Override
    public String name() {
      return name;
    }

    public long[] ids() {
      return ids.clone();
    }

    /** The reference share of the ids not listed. */
    public double otherShare() {
      return shares.length == 0 ? 0 : shares[ids.length];
    }

    @Override
    public int bins() {
      return shares.length;
    }

    @Override
    public double share(int bin) {
      return shares[bin];
    }

    @Override
    public int bin(double value) {
      if (Double.isNaN(value) || shares.length == 0) {
        return -1;
      }
      return binOfId.getOrDefault((long) value, ids.length);
    }

    @Override
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      List<Object> idList = new ArrayList<>(ids.length);
      for (long id : ids) {
        idList.add(id);
      }
      m.put("ids", idList);
      m.put("shares", MapReading.list(shares));
      return m;
    }
  }

  private static void checkShares(String name, double[] shares) {
    for (double s : shares) {
      if (!(s >= 0 && s <= 1)) {
        throw new IllegalArgumentException(
            "column "
                + name
                + " shares : "
                + Arrays.toString(shares)
                + " (expected: numbers in [0, 1])");
      }
    }
  }
}
