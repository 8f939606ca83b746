package ai.distill.optimizer.drift;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the JSON-compatible map form of sketches: numbers come back from JSON as
 * Integer, Long or Double (whichever Jackson picked), infinities are written as the strings {@code
 * "Infinity"} / {@code "-Infinity"}.
 */
final class MapReading {

  private MapReading() {}

  static List<Object> list(double[] values) {
    List<Object> out = new ArrayList<>(values.length);
    for (double v : values) {
      out.add(Double.isInfinite(v) ? (v > 0 ? "Infinity" : "-Infinity") : (Object) v);
    }
    return out;
  }

  static Object value(Map<?, ?> m, String key, String where) {
    Object v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException(
          where + key + " : missing (expected keys include: " + key + ")");
    }
    return v;
  }

  static String string(Map<?, ?> m, String key) {
    Object v = value(m, key, "");
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException(key + " : " + v + " (expected: a string)");
    }
    return s;
  }

  static long number(Map<?, ?> m, String key) {
    Object v = value(m, key, "");
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new IllegalArgumentException(key + " : " + v + " (expected: an integer)");
    }
    return n.longValue();
  }

  static List<?> items(Map<?, ?> m, String key, String column) {
    Object v = value(m, key, column == null ? "" : "column " + column + " ");
    if (!(v instanceof List<?> l)) {
      throw new IllegalArgumentException(
          (column == null ? "" : "column " + column + " ")
              + key
              + " : "
              + v
              + " (expected: a list)");
    }
    return l;
  }

  static double[] doubles(Map<?, ?> m, String key, String column) {
    List<?> l = items(m, key, column);
    double[] out = new double[l.size()];
    for (int i = 0; i < out.length; i++) {
      Object o = l.get(i);
      if (o instanceof Number n) {
        out[i] = n.doubleValue();
      } else if ("Infinity".equals(o) || "-Infinity".equals(o)) {
        out[i] = Double.parseDouble((String) o);
      } else {
        throw new IllegalArgumentException(
            "column " + column + " " + key + "[" + i + "] : " + o + " (expected: a number)");
      }
    }
    return out;
  }

  static long[] longs(Map<?, ?> m, String key, String column) {
    List<?> l = items(m, key, column);
    long[] out = new long[l.size()];
    for (int i = 0; i < out.length; i++) {
      Object o = l.get(i);
      if (!(o instanceof Number n) || n instanceof Double || n instanceof Float) {
        throw new IllegalArgumentException(
            "column " + column + " " + key + "[" + i + "] : " + o + " (expected: an integer)");
      }
      out[i] = n.longValue();
    }
    return out;
  }
}
