package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One quantizable node ("layer"): a MatMul or Gemm whose weight is a 2-D FLOAT initializer, or a
 * Gather on a 2-D FLOAT embedding initializer. {@code layer} is the node name (or {@code
 * <op>_<index>} for unnamed nodes), the key used in reports and fallbacks.
 *
 * @param activation the float tensor to quantize with Q/DQ (null for Gather)
 * @param weight the initializer to store as int8
 * @param bias Gemm's 1-D bias initializer to store as int32, or null
 * @param transB whether Gemm multiplies by the weight transposed ([N, K] weights)
 */
public record QuantTarget(
    String layer,
    int nodeIndex,
    Kind kind,
    String activation,
    String weight,
    String bias,
    boolean transB,
    String output) {

  public enum Kind {
    GEMM,
    MATMUL,
    GATHER
  }

  /** Index of the output-channel axis of the weight matrix. */
  public int weightAxis() {
    return kind == Kind.GEMM && transB ? 0 : 1;
  }

  /** Finds the quantizable nodes of a model, in graph order. */
  public static List<QuantTarget> find(OnnxModel model) {
    Map<String, TensorProto> inits = model.initializers();
    List<QuantTarget> out = new ArrayList<>();
    List<NodeProto> nodes = model.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
        continue;
      }
      String layer = n.getName().isEmpty() ? n.getOpType() + "_" + i : n.getName();
      switch (n.getOpType()) {
        case "Gemm" -> {
          if (n.getInputCount() < 2
              || intAttr(n, "transA", 0) != 0
              || floatAttr(n, "alpha", 1f) != 1f
              || floatAttr(n, "beta", 1f) != 1f
              || inits.containsKey(n.getInput(0))
              || !isFloatMatrix(inits.get(n.getInput(1)))) {
            continue;
          }
          String bias = null;
          if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            TensorProto b = inits.get(n.getInput(2));
            boolean transB = intAttr(n, "transB", 0) != 0;
            long outDim = inits.get(n.getInput(1)).getDims(transB ? 0 : 1);
            if (b == null
                || TensorProtos.type(b) != DataType.FLOAT
                || b.getDimsCount() != 1
                || b.getDims(0) != outDim) {
              continue; // a broadcast or computed bias stays float: keep the whole node FP32
            }
            bias = n.getInput(2);
          }
          out.add(
              new QuantTarget(
                  layer,
                  i,
                  Kind.GEMM,
                  n.getInput(0),
                  n.getInput(1),
                  bias,
                  intAttr(n, "transB", 0) != 0,
                  n.getOutput(0)));
        }
        case "MatMul" -> {
          if (n.getInputCount() == 2
              && !inits.containsKey(n.getInput(0))
              && isFloatMatrix(inits.get(n.getInput(1)))) {
            out.add(
                new QuantTarget(
                    layer,
                    i,
                    Kind.MATMUL,
                    n.getInput(0),
                    n.getInput(1),
                    null,
                    false,
                    n.getOutput(0)));
          }
        }
        case "Gather" -> {
          if (n.getInputCount() == 2
              && intAttr(n, "axis", 0) == 0
              && isFloatMatrix(inits.get(n.getInput(0)))) {
            out.add(
                new QuantTarget(
                    layer, i, Kind.GATHER, null, n.getInput(0), null, false, n.getOutput(0)));
          }
        }
        default -> {}
      }
    }
    return out;
  }

  private static boolean isFloatMatrix(TensorProto t) {
    return t != null && TensorProtos.type(t) == DataType.FLOAT && t.getDimsCount() == 2;
  }

  static long intAttr(NodeProto n, String name, long dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return dflt;
  }

  static float floatAttr(NodeProto n, String name, float dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return dflt;
  }
}
