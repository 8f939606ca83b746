package ai.distill.optimizer.train;

/**
 * Int8 fake quantization for quantization-aware training: values are rounded to the grid the
 * quantizer will use (weights: symmetric int8 per output channel; activations: asymmetric uint8 per
 * tensor) but stay float. Gradients pass straight through (straight-through estimator). Stateless
 * and thread-safe.
 */
final class FakeQuant {

  private FakeQuant() {}

  /** Per output channel (column o of a row-major [in][out] matrix), symmetric int8 with ±127. */
  static void weightsPerChannel(float[] w, int in, int out, float[] dst) {
    for (int o = 0; o < out; o++) {
      float max = 0f;
      for (int i = 0; i < in; i++) {
        max = Math.max(max, Math.abs(w[i * out + o]));
      }
      if (max == 0f) {
        for (int i = 0; i < in; i++) {
          dst[i * out + o] = 0f;
        }
        continue;
      }
      float scale = max / 127f;
      for (int i = 0; i < in; i++) {
        float q = (float) Math.rint(w[i * out + o] / scale);
        dst[i * out + o] = Math.max(-127f, Math.min(127f, q)) * scale;
      }
    }
  }

  /**
   * Rounds {@code x[0..n)} in place to the uint8 grid of the range [lo, hi] (extended to hold 0).
   */
  static void activations(float[] x, int n, float lo, float hi) {
    lo = Math.min(lo, 0f);
    hi = Math.max(hi, 0f);
    float scale = (hi - lo) / 255f;
    if (!(scale > 0f)) {
      return;
    }
    float zeroPoint = Math.max(0f, Math.min(255f, (float) Math.rint(-lo / scale)));
    for (int j = 0; j < n; j++) {
      float q = (float) Math.rint(x[j] / scale) + zeroPoint;
      q = Math.max(0f, Math.min(255f, q));
      x[j] = (q - zeroPoint) * scale;
    }
  }
}
