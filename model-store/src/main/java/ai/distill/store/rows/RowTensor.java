package ai.distill.store.rows;

import java.util.Arrays;
import java.util.Objects;

/**
 * One input of one row: its values in row-major order and the shape as written (nested lists give
 * their nesting, a flat list gives {@code [n]}, a bare number gives {@code []}). Values are
 * doubles, which hold every float and every integer up to 2^53 exactly. Immutable by convention:
 * the arrays are not copied, do not modify them.
 */
public record RowTensor(int[] shape, double[] values) {

  public RowTensor {
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(values, "values");
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape : " + Arrays.toString(shape) + " (expected: dims >= 0)");
      }
      n *= d;
    }
    if (n != values.length) {
      throw new IllegalArgumentException(
          "values : "
              + values.length
              + " elements (expected: "
              + n
              + " for shape "
              + Arrays.toString(shape)
              + ")");
    }
  }

  /** A flat tensor of shape {@code [values.length]}. */
  public static RowTensor flat(double... values) {
    return new RowTensor(new int[] {values.length}, values);
  }

  /** Number of elements. */
  public int size() {
    return values.length;
  }

  /** The values as floats (rounded to nearest). */
  public float[] toFloats() {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /**
   * The values as longs.
   *
   * @throws IllegalArgumentException when a value is not an integer (names its index and value)
   */
  public long[] toLongs() {
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      long l = (long) values[i];
      if (l != values[i]) {
        throw new IllegalArgumentException(
            "values[" + i + "] : " + values[i] + " (expected: an integer)");
      }
      out[i] = l;
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RowTensor t
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(values, t.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "RowTensor"
        + Arrays.toString(shape)
        + (values.length <= 16 ? Arrays.toString(values) : "[" + values.length + " values]");
  }
}
