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
 * @param packed {@code rows × cols/2} bytes
 * @param scales one per row
 * @param zeroPoints one per row, in [0, 15]
 */
public record Int4Table(int rows, int cols, byte[] packed, float[] scales, byte[] zeroPoints) {

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
    for (int r = 0; r < rows; r++) {
      double min = 0;
      double max = 0;
      for (int c = 0; c < cols; c++) {
        min = Math.min(min, values[r * cols + c]);
        max = Math.max(max, values[r * cols + c]);
      }
      Params p = QuantMath.asymmetric(min, max, 0, 15);
      scales[r] = p.scale();
      zps[r] = (byte) p.zeroPoint();
      for (int c = 0; c < cols; c++) {
        int q = QuantMath.quantize(values[r * cols + c], p, 0, 15);
        int i = r * cols + c;
        packed[i >> 1] |= (byte) ((i & 1) == 0 ? q : q << 4);
      }
    }
    return new Int4Table(rows, cols, packed, scales, zps);
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
   * Nodes that decode table {@code name} from its 4-bit initializers into the float table {@code
   * <name>_4bit_decoded} ({@code rows × cols}) with standard opset-13+ ops (Mod and Div by 16 for
   * the two nibbles, interleave, Cast, subtract the row's zero point, multiply by its scale). Every
   * input is an initializer, so ONNX Runtime's constant folding runs them once when the session
   * loads: the file holds 4 bits per value, the lookups run as fast as on a float table.
   */
  static List<NodeProto> decodeNodes(String name, int rows, int cols, List<TensorProto> inits) {
    String p = name + "_4bit";
    inits.add(TensorProtos.uint8(p + "_16", new byte[] {16}));
    inits.add(TensorProtos.longs(p + "_axis2", new long[] {2}, 1));
    inits.add(TensorProtos.longs(p + "_shape", new long[] {rows, cols}, 2));
    List<NodeProto> n = new java.util.ArrayList<>();
    n.add(op("Mod", List.of(p, p + "_16"), p + "_lo"));
    n.add(op("Div", List.of(p, p + "_16"), p + "_hi"));
    n.add(op("Unsqueeze", List.of(p + "_lo", p + "_axis2"), p + "_lo3"));
    n.add(op("Unsqueeze", List.of(p + "_hi", p + "_axis2"), p + "_hi3"));
    n.add(
        op("Concat", List.of(p + "_lo3", p + "_hi3"), p + "_pairs").toBuilder()
            .addAttribute(GraphBuilder.attr("axis", 2L))
            .build());
    n.add(op("Reshape", List.of(p + "_pairs", p + "_shape"), p + "_codes"));
    n.add(
        op("Cast", List.of(p + "_codes"), p + "_codes_float").toBuilder()
            .addAttribute(GraphBuilder.attr("to", (long) TensorProto.DataType.FLOAT_VALUE))
            .build());
    n.add(
        op("Cast", List.of(p + "_zero_point"), p + "_zero_point_float").toBuilder()
            .addAttribute(GraphBuilder.attr("to", (long) TensorProto.DataType.FLOAT_VALUE))
            .build());
    n.add(op("Sub", List.of(p + "_codes_float", p + "_zero_point_float"), p + "_centered"));
    n.add(op("Mul", List.of(p + "_centered", p + "_scale"), p + "_decoded"));
    return n;
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
