package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.QuantMath.WeightQuant;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * 4-bit MatMul/Gemm weights: symmetric per output channel on [-7, 7], the clipping range of each
 * channel chosen to minimize its squared error (4-bit steps are coarse: clipping the few largest
 * weights of a channel usually costs less than rounding all the others on a wider grid). The file
 * stores two values a byte (value + 8, low nibble first); standard ops widen them to the int8
 * tensor the DequantizeLinear of the weight reads, and since every input of those ops is an
 * initializer, ONNX Runtime's constant folding runs them once at session load, before its QDQ
 * fusion forms the same QGemm/MatMulInteger kernels as for 8-bit weights: half the bytes on disk,
 * 8-bit speed. (ORT 1.29's contrib MatMulNBits, which keeps 4 bits in memory, measured no faster
 * than the FP32 Gemm at batch 256 here.) Stateless.
 */
public final class Int4Weights {

  /** Largest magnitude of a 4-bit symmetric weight. */
  static final int MAX = 7;

  /**
   * Fewest weight values for 4-bit weights ({@code weightBits 4}): smaller layers (a dense
   * projection, the output layer) cost little on disk and keep 8 bits.
   */
  static final long MIN_4BIT = 4096;

  private Int4Weights() {}

  /** The layers written in 4 bits (weights and tables) unless the gate sends them back to 8. */
  static Set<String> fourBitLayers(OnnxModel model, List<QuantTarget> targets, QuantizeOptions o) {
    Set<String> out = new HashSet<>();
    boolean perChannel = o.perChannel() && model.opsetVersion() >= 13;
    for (QuantTarget t : targets) {
      TensorProto w = model.initializers().get(t.weight());
      if (o.dynamic() || w == null || w.getDimsCount() != 2) {
        continue;
      }
      int rows = (int) w.getDims(0);
      int cols = (int) w.getDims(1);
      boolean four =
          t.kind() == QuantTarget.Kind.GATHER
              ? o.embeddingBits() == 4 && cols % 2 == 0
              : is4Bit(o, perChannel, rows, cols);
      if (four) {
        out.add(t.layer());
      }
    }
    return out;
  }

  /** Whether a weight of {@code rows × cols} is written in 4 bits. */
  static boolean is4Bit(QuantizeOptions o, boolean perChannel, int rows, int cols) {
    return o.weightBits() == 4 && perChannel && (long) rows * cols >= MIN_4BIT;
  }

  /**
   * Quantizes a {@code rows × cols} matrix, one scale per index of {@code axis} (0: per row, 1: per
   * column); the values are in [-7, 7].
   */
  public static WeightQuant quantize(float[] w, int rows, int cols, int axis) {
    int channels = axis == 0 ? rows : cols;
    float[] scales = new float[channels];
    byte[] q = new byte[w.length];
    float[] channel = new float[axis == 0 ? cols : rows];
    for (int ch = 0; ch < channels; ch++) {
      for (int k = 0; k < channel.length; k++) {
        channel[k] = w[axis == 0 ? ch * cols + k : k * cols + ch];
      }
      scales[ch] = bestScale(channel);
      for (int k = 0; k < channel.length; k++) {
        int v = (int) Math.max(-MAX, Math.min(MAX, Math.rint(channel[k] / scales[ch])));
        q[axis == 0 ? ch * cols + k : k * cols + ch] = (byte) v;
      }
    }
    return new WeightQuant(q, scales);
  }

  /** The scale among 20 clipping ratios in (0.5, 1] of the largest |w| with the least error. */
  static float bestScale(float[] v) {
    double absMax = 0;
    for (float x : v) {
      absMax = Math.max(absMax, Math.abs(x));
    }
    if (!(absMax / MAX > Float.MIN_NORMAL)) {
      return 1f;
    }
    float best = (float) (absMax / MAX);
    double bestErr = Double.POSITIVE_INFINITY;
    for (int i = 0; i < 20; i++) {
      float s = (float) (absMax * (1 - i * 0.025) / MAX);
      double err = 0;
      for (float x : v) {
        double d = x - s * Math.max(-MAX, Math.min(MAX, Math.rint(x / s)));
        err += d * d;
      }
      if (err < bestErr) {
        bestErr = err;
        best = s;
      }
    }
    return best;
  }

  /**
   * Two values a byte (value + 8), low nibble first; an odd count leaves the last high nibble 0.
   */
  static byte[] pack(byte[] values) {
    byte[] packed = new byte[(values.length + 1) / 2];
    for (int i = 0; i < values.length; i++) {
      int u = values[i] + 8;
      packed[i >> 1] |= (byte) ((i & 1) == 0 ? u : u << 4);
    }
    return packed;
  }

  /**
   * The packed initializer {@code <name>_4bit} and the nodes that widen it into INT8 {@code <name>}
   * of shape {@code rows × cols}: Mod and Div by 16 for the two nibbles, interleave, Cast to int32,
   * subtract 8, Cast to int8.
   */
  static List<NodeProto> decodeNodes(
      String name, byte[] values, int rows, int cols, List<TensorProto> inits) {
    String p = name + "_4bit";
    byte[] packed = pack(values);
    inits.add(TensorProtos.uint8(p, packed, packed.length));
    inits.add(TensorProtos.uint8(p + "_16", new byte[] {16}));
    inits.add(TensorProtos.ints(p + "_8", new int[] {8}));
    inits.add(TensorProtos.longs(p + "_axis1", new long[] {1}, 1));
    inits.add(TensorProtos.longs(p + "_flat", new long[] {2L * packed.length}, 1));
    inits.add(TensorProtos.longs(p + "_start", new long[] {0}, 1));
    inits.add(TensorProtos.longs(p + "_end", new long[] {(long) rows * cols}, 1));
    inits.add(TensorProtos.longs(p + "_shape", new long[] {rows, cols}, 2));
    List<NodeProto> n = new ArrayList<>();
    n.add(op("Mod", List.of(p, p + "_16"), p + "_lo"));
    n.add(op("Div", List.of(p, p + "_16"), p + "_hi"));
    n.add(op("Unsqueeze", List.of(p + "_lo", p + "_axis1"), p + "_lo2"));
    n.add(op("Unsqueeze", List.of(p + "_hi", p + "_axis1"), p + "_hi2"));
    n.add(
        op("Concat", List.of(p + "_lo2", p + "_hi2"), p + "_pairs").toBuilder()
            .addAttribute(GraphBuilder.attr("axis", 1L))
            .build());
    n.add(op("Reshape", List.of(p + "_pairs", p + "_flat"), p + "_codes_flat"));
    n.add(op("Slice", List.of(p + "_codes_flat", p + "_start", p + "_end"), p + "_codes_used"));
    n.add(op("Reshape", List.of(p + "_codes_used", p + "_shape"), p + "_codes"));
    n.add(cast(p + "_codes", p + "_codes_int", TensorProto.DataType.INT32_VALUE));
    n.add(op("Sub", List.of(p + "_codes_int", p + "_8"), p + "_centered"));
    n.add(cast(p + "_centered", name, TensorProto.DataType.INT8_VALUE));
    return n;
  }

  private static NodeProto cast(String in, String out, int to) {
    return op("Cast", List.of(in), out).toBuilder()
        .addAttribute(GraphBuilder.attr("to", (long) to))
        .build();
  }

  private static NodeProto op(String type, List<String> inputs, String output) {
    return QdqRewriter.node(type, output + "_" + type, inputs, output);
  }
}
