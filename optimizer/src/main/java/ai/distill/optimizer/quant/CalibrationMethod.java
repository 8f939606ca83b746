package ai.distill.optimizer.quant;

import java.util.Locale;

/**
 * How a calibrated tensor's histogram becomes a quantization range. Every range is clamped to the
 * observed [min, max] and then widened to include 0.
 */
public enum CalibrationMethod {
  /** The observed minimum and maximum. */
  MINMAX,
  /** Two-sided percentile: [q((100−p)/100), q(p/100)], default p = 99.999. */
  PERCENTILE,
  /** The KL-divergence threshold of TensorRT / ONNX Runtime, symmetric around 0 on |x|. */
  ENTROPY;

  /** A calibrated range. */
  public record Range(double min, double max) {}

  /** Parses {@code minmax}, {@code percentile} or {@code entropy}, case-insensitively. */
  public static CalibrationMethod parse(String text) {
    if (text != null) {
      for (CalibrationMethod m : values()) {
        if (m.name().equalsIgnoreCase(text.trim())) {
          return m;
        }
      }
    }
    throw new IllegalArgumentException(
        "method : " + text + " (expected: minmax, percentile or entropy)");
  }

  public Range range(TensorHistogram h, double percentile) {
    if (h.count() == 0) {
      return new Range(0, 0);
    }
    double lo;
    double hi;
    switch (this) {
      case MINMAX -> {
        lo = h.min();
        hi = h.max();
      }
      case PERCENTILE -> {
        lo = h.quantile((100 - percentile) / 100);
        hi = h.quantile(percentile / 100);
      }
      case ENTROPY -> {
        boolean twoSided = h.min() < 0 && h.max() > 0;
        double t = h.entropyThreshold(twoSided ? 128 : 256);
        lo = Math.max(h.min(), -t);
        hi = Math.min(h.max(), t);
      }
      default -> throw new AssertionError(this);
    }
    return new Range(Math.min(0, Math.max(lo, h.min())), Math.max(0, Math.min(hi, h.max())));
  }

  /**
   * Calibration rows this method needs. Percentile needs at least one expected value beyond the
   * percentile in the widest calibrated tensor; entropy needs a populated histogram.
   */
  public int minimumRows(double percentile, long widestValuesPerRow) {
    return switch (this) {
      case MINMAX -> 10;
      case ENTROPY -> 200;
      case PERCENTILE ->
          (int)
              Math.max(
                  100, Math.ceil(100.0 / (100 - percentile) / Math.max(1, widestValuesPerRow)));
    };
  }

  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
