package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.QuantMath.Params;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.List;

/**
 * A row-wise 4-bit embedding table: each row gets its own asymmetric scale and zero point on [0,
 * 15], two values per byte (low nibble first), in the layout of ONNX Runtime's {@code
 * GatherBlockQuantized} (com.microsoft, uint8 data with {@code bits=4}, one block per row: {@code
 * block_size} is the row length rounded up to a power of two, at least 16). Immutable.
 *
 * <p>The scales are stored in one byte a row as well ({@link #scaleCodes}): {@code scale = base ·
 * 2^(code/16)}, the code rounded up so that no value of the row is clipped (at most 4.4 % coarser
 * than the row needs); with the zero points two a byte, a 16-wide row costs 9.5 bytes instead of 13
 * (a float scale and a byte zero point would be 40 % of the 4-bit file).
 *
 * @param packed {@code rows × cols/2} bytes
 * @param scales one per row ({@code base · 2^(code/16)})
 * @param zeroPoints one per row, in [0, 15]
 * @param scaleCodes one per row (unsigned)
 * @param scaleBase the scale of code 0
 */
public record Int4Table(
    int rows,
    int cols,
    byte[] packed,
    float[] scales,
    byte[] zeroPoints,
    byte[] scaleCodes,
    float scaleBase) {

  /** ORT's contrib domain. */
  static final String MS_DOMAIN = "com.microsoft";

  /** Quantizes a {@code rows × cols} table (cols even). */
  public static Int4Table quantize(float[] values, int rows, int cols) {
    if (cols % 2 != 0 || (long) rows * cols != values.length) {
      throw new IllegalArgumentException(
          "table : "
              + values.length
              + " values as "
              + rows
              + "x"
              + cols
              + " (expected: even cols)");
    }
    byte[] packed = new byte[rows * cols / 2];
    float[] scales = new float[rows];
    byte[] zps = new byte[rows];
    byte[] codes = new byte[rows];
    double[] min = new double[rows];
    double[] needed = new double[rows];
    double smallest = Double.POSITIVE_INFINITY;
    double largest = 0;
    for (int r = 0; r < rows; r++) {
      double max = 0;
      for (int c = 0; c < cols; c++) {
        min[r] = Math.min(min[r], values[r * cols + c]);
        max = Math.max(max, values[r * cols + c]);
      }
      needed[r] = (max - min[r]) / 15;
      if (needed[r] > Float.MIN_NORMAL) {
        smallest = Math.min(smallest, needed[r]);
        largest = Math.max(largest, needed[r]);
      }
    }
    float base = largest == 0 ? 1f : (float) Math.max(smallest, largest / Math.pow(2, 255 / 16.0));
    for (int r = 0; r < rows; r++) {
      int code =
          needed[r] > Float.MIN_NORMAL
              ? (int) Math.ceil(16 * Math.log(needed[r] / base) / Math.log(2) - 1e-9)
              : 0;
      code = Math.max(0, Math.min(255, code));
      float s = scale(base, code);
      while (code < 255 && s < needed[r]) {
        s = scale(base, ++code); // rounding of the log: never clip
      }
      codes[r] = (byte) code;
      scales[r] = s;
      Params p = new Params(s, (int) Math.max(0, Math.min(15, Math.rint(-min[r] / s))));
      zps[r] = (byte) p.zeroPoint();
      for (int c = 0; c < cols; c++) {
        int q = QuantMath.quantize(values[r * cols + c], p, 0, 15);
        int i = r * cols + c;
        packed[i >> 1] |= (byte) ((i & 1) == 0 ? q : q << 4);
      }
    }
    return new Int4Table(rows, cols, packed, scales, zps, codes, base);
  }

  /** {@code base · 2^(code/16)} in float, as the decoding graph computes it. */
  static float scale(float base, int code) {
    return base * (float) Math.pow(2f, code / 16f);
  }

  /** The 4-bit value at row {@code r}, column {@code c}. */
  public int value(int r, int c) {
    int i = r * cols + c;
    int b = packed[i >> 1] & 0xFF;
    return (i & 1) == 0 ? b & 0x0F : b >> 4;
  }

  /** The float value the table stands for at row {@code r}, column {@code c}. */
  public float dequantize(int r, int c) {
    return (value(r, c) - zeroPoints[r]) * scales[r];
  }

  /** One block per row: the row length rounded up to a power of two, at least 16. */
  public int blockSize() {
    return blockSize(cols);
  }

  static int blockSize(int cols) {
    return Math.max(16, Integer.highestOneBit(Math.max(1, cols - 1)) << 1);
  }

  /** The initializers {@code <name>_4bit}, {@code _4bit_scale} and {@code _4bit_zero_point}. */
  List<TensorProto> initializers(String name) {
    return List.of(
        TensorProtos.uint8(name + "_4bit", packed, rows, cols / 2),
        TensorProtos.floats(name + "_4bit_scale", scales, rows, 1),
        TensorProtos.uint8(name + "_4bit_zero_point", zeroPoints, rows, 1));
  }

  /** {@code GatherBlockQuantized} reading table {@code name} with the ids of {@code gather}. */
  static NodeProto gatherNode(String name, int cols, NodeProto gather, String output) {
    return NodeProto.newBuilder()
        .setOpType("GatherBlockQuantized")
        .setDomain(MS_DOMAIN)
        .setName(gather.getName() + "_4bit")
        .addAllInput(
            List.of(
                name + "_4bit",
                gather.getInput(1),
                name + "_4bit_scale",
                name + "_4bit_zero_point"))
        .addOutput(output)
        .addAttribute(GraphBuilder.attr("gather_axis", 0L))
        .addAttribute(GraphBuilder.attr("quantize_axis", 1L))
        .addAttribute(GraphBuilder.attr("block_size", (long) blockSize(cols)))
        .addAttribute(GraphBuilder.attr("bits", 4L))
        .build();
  }

  /**
   * The initializers the decoding graph reads: {@code <name>_4bit} (packed values), {@code
   * _4bit_scale_code} (a byte a row), {@code _4bit_scale_base} and {@code _4bit_zero_point} (two a
   * byte).
   */
  List<TensorProto> compactInitializers(String name) {
    byte[] zp = new byte[(rows + 1) / 2];
    for (int r = 0; r < rows; r++) {
      zp[r >> 1] |= (byte) ((r & 1) == 0 ? zeroPoints[r] : zeroPoints[r] << 4);
    }
    return List.of(
        TensorProtos.uint8(name + "_4bit", packed, rows, cols / 2),
        TensorProtos.uint8(name + "_4bit_scale_code", scaleCodes, rows, 1),
        TensorProtos.floats(name + "_4bit_scale_base", new float[] {scaleBase}),
        TensorProtos.uint8(name + "_4bit_zero_point", zp, zp.length));
  }

  /**
   * Nodes that decode table {@code name} from its {@link #compactInitializers} into the float table
   * {@code <name>_4bit_decoded} ({@code rows × cols}) with standard opset-13+ ops: Mod and Div by
   * 16 for the two nibbles of the values and of the zero points, interleave, Cast, the scales as
   * {@code base · 2^(code/16)} (Pow), subtract the row's zero point, multiply by its scale. Every
   * input is an initializer, so ONNX Runtime's constant folding runs them once when the session
   * loads: the file holds 4 bits per value, the lookups run as fast as on a float table.
   */
  static List<NodeProto> decodeNodes(String name, int rows, int cols, List<TensorProto> inits) {
    String p = name + "_4bit";
    inits.add(TensorProtos.uint8(p + "_16", new byte[] {16}));
    inits.add(TensorProtos.longs(p + "_axis2", new long[] {2}, 1));
    inits.add(TensorProtos.longs(p + "_axis1", new long[] {1}, 1));
    inits.add(TensorProtos.longs(p + "_shape", new long[] {rows, cols}, 2));
    inits.add(TensorProtos.longs(p + "_zp_flat", new long[] {2L * ((rows + 1) / 2)}, 1));
    inits.add(TensorProtos.longs(p + "_zp_start", new long[] {0}, 1));
    inits.add(TensorProtos.longs(p + "_zp_end", new long[] {rows}, 1));
    inits.add(TensorProtos.longs(p + "_zp_shape", new long[] {rows, 1}, 2));
    inits.add(TensorProtos.floats(p + "_two", new float[] {2f}));
    inits.add(TensorProtos.floats(p + "_sixteenth", new float[] {1f / 16}));
    List<NodeProto> n = new java.util.ArrayList<>();
    n.add(op("Mod", List.of(p, p + "_16"), p + "_lo"));
    n.add(op("Div", List.of(p, p + "_16"), p + "_hi"));
    n.add(op("Unsqueeze", List.of(p + "_lo", p + "_axis2"), p + "_lo3"));
    n.add(op("Unsqueeze", List.of(p + "_hi", p + "_axis2"), p + "_hi3"));
    n.add(concat(List.of(p + "_lo3", p + "_hi3"), p + "_pairs", 2));
    n.add(op("Reshape", List.of(p + "_pairs", p + "_shape"), p + "_codes"));
    n.add(cast(p + "_codes", p + "_codes_float"));
    // zero points: two a byte, low nibble first
    String z = p + "_zero_point";
    n.add(op("Mod", List.of(z, p + "_16"), z + "_lo"));
    n.add(op("Div", List.of(z, p + "_16"), z + "_hi"));
    n.add(op("Unsqueeze", List.of(z + "_lo", p + "_axis1"), z + "_lo2"));
    n.add(op("Unsqueeze", List.of(z + "_hi", p + "_axis1"), z + "_hi2"));
    n.add(concat(List.of(z + "_lo2", z + "_hi2"), z + "_pairs", 1));
    n.add(op("Reshape", List.of(z + "_pairs", p + "_zp_flat"), z + "_flat"));
    n.add(op("Slice", List.of(z + "_flat", p + "_zp_start", p + "_zp_end"), z + "_rows"));
    n.add(op("Reshape", List.of(z + "_rows", p + "_zp_shape"), z + "_column"));
    n.add(cast(z + "_column", z + "_float"));
    // scales: base * 2^(code / 16)
    n.add(cast(p + "_scale_code", p + "_scale_code_float"));
    n.add(op("Mul", List.of(p + "_scale_code_float", p + "_sixteenth"), p + "_scale_log2"));
    n.add(op("Pow", List.of(p + "_two", p + "_scale_log2"), p + "_scale_factor"));
    n.add(op("Mul", List.of(p + "_scale_factor", p + "_scale_base"), p + "_scale"));
    n.add(op("Sub", List.of(p + "_codes_float", z + "_float"), p + "_centered"));
    n.add(op("Mul", List.of(p + "_centered", p + "_scale"), p + "_decoded"));
    return n;
  }

  private static NodeProto concat(List<String> inputs, String output, long axis) {
    return op("Concat", inputs, output).toBuilder()
        .addAttribute(GraphBuilder.attr("axis", axis))
        .build();
  }

  private static NodeProto cast(String in, String out) {
    return op("Cast", List.of(in), out).toBuilder()
        .addAttribute(GraphBuilder.attr("to", (long) TensorProto.DataType.FLOAT_VALUE))
        .build();
  }

  private static NodeProto op(String type, List<String> inputs, String output) {
    return QdqRewriter.node(type, output + "_" + type, inputs, output);
  }

  /** {@code model} importing com.microsoft version 1 if it did not already. */
  static OnnxModel withContribDomain(OnnxModel model) {
    for (OperatorSetIdProto o : model.proto().getOpsetImportList()) {
      if (o.getDomain().equals(MS_DOMAIN)) {
        return model;
      }
    }
    return model.rewrite(
        b ->
            b.addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1).build()));
  }
}
