package ai.distill.optimizer.drift;

import java.util.Locale;

/**
 * How a sketch summarizes the columns of one model input: {@link #FLOAT} inputs by quantile bins,
 * {@link #INT64} inputs (ids) by the frequencies of their most common values. The caller maps the
 * model's input types onto these (ONNX FLOAT, DOUBLE, FLOAT16 → FLOAT; INT64, INT32 → INT64).
 */
public enum InputKind {
  FLOAT,
  INT64;

  /** The name used in a sketch's map form: {@code "float"} or {@code "int64"}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@link #wireName()}. @throws IllegalArgumentException naming the accepted values */
  public static InputKind fromWireName(String s) {
    for (InputKind k : values()) {
      if (k.wireName().equals(s)) {
        return k;
      }
    }
    throw new IllegalArgumentException("type : " + s + " (expected: float or int64)");
  }
}
