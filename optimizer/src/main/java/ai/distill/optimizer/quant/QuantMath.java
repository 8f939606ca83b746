package ai.distill.optimizer.quant;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;

/**
 * The arithmetic of linear 8-bit quantization, as ONNX QuantizeLinear defines it: {@code q =
 * saturate(round_half_even(x / scale) + zero_point)}. Ranges always include 0 so that 0 is exactly
 * representable (it maps to the integer zero point). Stateless.
 */
public final class QuantMath {

  /** Signedness of an 8-bit quantized tensor. */
  public enum QType {
    UINT8(0, 255, DataType.UINT8),
    INT8(-128, 127, DataType.INT8);

    public final int min;
    public final int max;
    public final DataType onnx;

    QType(int min, int max, DataType onnx) {
      this.min = min;
      this.max = max;
      this.onnx = onnx;
    }
  }

  /** Scale and zero point of one tensor (or one channel). */
  public record Params(float scale, int zeroPoint) {}

  /**
   * Symmetric weights: int8 in [-127, 127], or [-64, 64] with reduce-range (7 bits, for AVX2
   * without VNNI).
   */
  public static int weightMax(boolean reduceRange) {
    return reduceRange ? 64 : 127;
  }

  private QuantMath() {}

  /**
   * Asymmetric parameters mapping [rmin, rmax] (widened to include 0) onto [qmin, qmax]. A range
   * starting at 0 gets {@code zeroPoint == qmin}, which ONNX Runtime needs to drop a preceding
   * Relu.
   */
  public static Params asymmetric(double rmin, double rmax, int qmin, int qmax) {
    checkRange(rmin, rmax);
    rmin = Math.min(rmin, 0);
    rmax = Math.max(rmax, 0);
    double scale = (rmax - rmin) / (qmax - qmin);
    if (!(scale > Float.MIN_NORMAL)) {
      return new Params(1f, rmin == 0 ? qmin : 0);
    }
    float s = (float) scale;
    int zp = (int) Math.rint(qmin - rmin / scale);
    return new Params(s, Math.max(qmin, Math.min(qmax, zp)));
  }

  /**
   * Symmetric parameters for [-absMax, absMax] on [qmin, qmax] (int8 weights: qmin = -qmax, zero
   * point 0).
   */
  public static Params symmetric(double absMax, int qmin, int qmax) {
    checkRange(-absMax, absMax);
    double a = Math.abs(absMax);
    if (!(a / (qmax - qmin) > Float.MIN_NORMAL)) {
      return new Params(1f, (int) Math.rint((qmin + qmax) / 2.0));
    }
    return asymmetric(-a, a, qmin, qmax);
  }

  /**
   * Activation parameters for a calibrated range. Symmetric int8 has zero point 0; symmetric uint8
   * 128.
   */
  public static Params activation(double rmin, double rmax, QType type, boolean symmetric) {
    if (!symmetric) {
      return asymmetric(rmin, rmax, type.min, type.max);
    }
    double a = Math.max(Math.abs(rmin), Math.abs(rmax));
    return type == QType.INT8 ? symmetric(a, -127, 127) : symmetric(a, 0, 255);
  }

  /** {@code clamp(round_half_even(x / scale) + zeroPoint, qmin, qmax)}. */
  public static int quantize(float x, Params p, int qmin, int qmax) {
    double q = Math.rint(x / p.scale()) + p.zeroPoint();
    if (Double.isNaN(q)) {
      return Math.max(qmin, Math.min(qmax, p.zeroPoint()));
    }
    return (int) Math.max(qmin, Math.min(qmax, q));
  }

  public static float dequantize(int q, Params p) {
    return (q - p.zeroPoint()) * p.scale();
  }

  /** Int32 bias quantized with scale {@code sx·sw}, saturated to the int32 range. */
  public static int quantizeBias(float b, float scale) {
    if (scale == 0) {
      return 0;
    }
    double q = Math.rint(b / (double) scale);
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q));
  }

  /**
   * Symmetric int8 quantization of a 2-D weight matrix {@code [rows, cols]}, one scale per index of
   * {@code axis} (0 = per row, 1 = per column) or a single scale when {@code perChannel} is false.
   */
  public static WeightQuant quantizeWeights(
      float[] w, int rows, int cols, int axis, boolean perChannel, boolean reduceRange) {
    if ((long) rows * cols != w.length) {
      throw new IllegalArgumentException(
          "weights : " + w.length + " values (expected: " + rows + "x" + cols + ")");
    }
    if (axis != 0 && axis != 1) {
      throw new IllegalArgumentException("axis : " + axis + " (expected: 0 or 1)");
    }
    int qmax = weightMax(reduceRange);
    int channels = perChannel ? (axis == 0 ? rows : cols) : 1;
    double[] absMax = new double[channels];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int ch = !perChannel ? 0 : axis == 0 ? r : c;
        absMax[ch] = Math.max(absMax[ch], Math.abs(w[r * cols + c]));
      }
    }
    Params[] params = new Params[channels];
    float[] scales = new float[channels];
    for (int ch = 0; ch < channels; ch++) {
      params[ch] = symmetric(absMax[ch], -qmax, qmax);
      scales[ch] = params[ch].scale();
    }
    byte[] q = new byte[w.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int ch = !perChannel ? 0 : axis == 0 ? r : c;
        q[r * cols + c] = (byte) quantize(w[r * cols + c], params[ch], -qmax, qmax);
      }
    }
    return new WeightQuant(q, scales);
  }

  /** Quantized weights and their per-channel (or single) scales; zero points are all 0. */
  public record WeightQuant(byte[] values, float[] scales) {}

  /** Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x−y)²); +∞ when identical. */
  public static double sqnrDb(double signalPower, double noisePower) {
    if (noisePower == 0) {
      return Double.POSITIVE_INFINITY;
    }
    return 10 * Math.log10(signalPower / noisePower);
  }

  private static void checkRange(double rmin, double rmax) {
    if (Double.isNaN(rmin)
        || Double.isNaN(rmax)
        || Double.isInfinite(rmin)
        || Double.isInfinite(rmax)) {
      throw new IllegalArgumentException("range : [" + rmin + ", " + rmax + "] (expected: finite)");
    }
    if (rmin > rmax) {
      throw new IllegalArgumentException(
          "range : [" + rmin + ", " + rmax + "] (expected: min <= max)");
    }
  }
}
