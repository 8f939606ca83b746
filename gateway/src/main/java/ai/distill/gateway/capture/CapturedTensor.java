package ai.distill.gateway.capture;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Arrays;

/**
 * An owned copy of a batched tensor taken for capture (so pooled request buffers may be reused),
 * stored flat as doubles (floating types) or longs (integer types). Immutable once built.
 *
 * @param rowElements elements per row (product of the shape without the batch dimension)
 */
public record CapturedTensor(String name, int rows, int rowElements, double[] floats, long[] ints) {

  public CapturedTensor {
    int n = floats != null ? floats.length : ints.length;
    if ((long) rows * rowElements != n) {
      throw new IllegalArgumentException(
          "values : " + n + " (expected: rows " + rows + " x row elements " + rowElements + ")");
    }
  }

  public static CapturedTensor ofFloats(String name, int rows, float[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = values[i];
    }
    return new CapturedTensor(name, rows, rows == 0 ? 0 : values.length / rows, d, null);
  }

  public static CapturedTensor ofDoubles(String name, int rows, double[] values) {
    return new CapturedTensor(
        name, rows, rows == 0 ? 0 : values.length / rows, values.clone(), null);
  }

  public static CapturedTensor ofLongs(String name, int rows, long[] values) {
    return new CapturedTensor(
        name, rows, rows == 0 ? 0 : values.length / rows, null, values.clone());
  }

  /** An owned copy of a protocol tensor (batch dimension first; a scalar counts as one row). */
  public static CapturedTensor copyOf(ai.distill.gateway.tensor.Tensor t) {
    int rows = t.rank() == 0 ? 1 : (int) t.dim(0);
    int n = (int) t.elementCount();
    if (t.datatype().isFloatingPoint()) {
      double[] d = new double[n];
      for (int i = 0; i < n; i++) {
        d[i] = t.getDouble(i);
      }
      return new CapturedTensor(t.name(), rows, rows == 0 ? 0 : n / rows, d, null);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = t.getLong(i);
    }
    return new CapturedTensor(t.name(), rows, rows == 0 ? 0 : n / rows, null, l);
  }

  /**
   * Row {@code r}'s values as a flat {@code double[]} or {@code long[]} (the rows format accepts
   * flat rows).
   */
  Object rowValues(int r) {
    int from = r * rowElements;
    return floats != null
        ? Arrays.copyOfRange(floats, from, from + rowElements)
        : Arrays.copyOfRange(ints, from, from + rowElements);
  }

  /**
   * Row {@code r} as a flat JSON list, a non-finite value as null (for outputs, which no model
   * reads back).
   */
  ArrayNode rowNode(int r) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode(rowElements);
    int from = r * rowElements;
    for (int i = from; i < from + rowElements; i++) {
      if (floats == null) {
        a.add(ints[i]);
      } else if (Double.isFinite(floats[i])) {
        a.add(floats[i]);
      } else {
        a.addNull();
      }
    }
    return a;
  }

  /** Approximate heap footprint of the values. */
  public long bytes() {
    return 8L * (floats != null ? floats.length : ints.length) + 64;
  }

  /** Row {@code r}'s first element as a double (a prediction, for shadow comparisons). */
  public double value(int r, int element) {
    int i = r * rowElements + element;
    return floats != null ? floats[i] : ints[i];
  }
}
