package ai.distill.gateway.tensor;

import ai.distill.store.tensor.Datatype;

/**
 * Finds NaN and ±Infinity in float tensors (FP16, FP32, FP64) without boxing. Stateless.
 *
 * <pre>{@code
 * long i = NonFinite.firstIndex(tensor);   // -1 when every element is finite (or not a float)
 * }</pre>
 */
public final class NonFinite {

  private NonFinite() {}

  /** The flat index of the first NaN or ±Infinity element, or -1 (always -1 for non-floats). */
  public static long firstIndex(Tensor t) {
    return firstOutside(t, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
  }

  /**
   * The flat index of the first element that is NaN, ±Infinity or outside [{@code lo}, {@code hi}],
   * or -1 (always -1 for non-floats).
   */
  public static long firstOutside(Tensor t, double lo, double hi) {
    Datatype d = t.datatype();
    if (d != Datatype.FP32 && d != Datatype.FP64 && d != Datatype.FP16) {
      return -1;
    }
    long n = t.elementCount();
    for (long i = 0; i < n; i++) {
      double v = t.getDouble(i);
      if (!(v >= lo && v <= hi) || Double.isInfinite(v)) {
        return i;
      }
    }
    return -1;
  }

  /** Element {@code i} as text: {@code NaN}, {@code Infinity}, {@code -Infinity} or the number. */
  public static String describe(Tensor t, long i) {
    return Double.toString(t.getDouble(i));
  }
}
