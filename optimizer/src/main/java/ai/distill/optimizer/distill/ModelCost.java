package ai.distill.optimizer.distill;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.onnx.proto.OnnxMl;
import java.util.Map;

/**
 * The size of a model read from its graph: FLOPs per row (2 × multiply-accumulates of Gemm/MatMul
 * nodes with an initializer weight; lookups and element-wise ops are not counted), parameters
 * (initializer elements) and serialised bytes.
 *
 * @param flopsPerRow floating-point operations per row
 * @param parameters initializer elements
 * @param bytes serialised model size
 */
public record ModelCost(long flopsPerRow, long parameters, long bytes) {

  /** Measures a model. */
  public static ModelCost of(OnnxModel model) {
    Map<String, OnnxMl.TensorProto> init = model.initializers();
    long params = 0;
    for (OnnxMl.TensorProto t : init.values()) {
      params += TensorProtos.elementCount(t);
    }
    long macs = 0;
    for (OnnxMl.NodeProto n : model.nodes()) {
      String op = n.getOpType();
      if ((op.equals("Gemm") || op.equals("MatMul")) && n.getInputCount() >= 2) {
        OnnxMl.TensorProto w = init.get(n.getInput(1));
        if (w != null && w.getDimsCount() == 2) {
          macs += w.getDims(0) * w.getDims(1);
        }
      }
    }
    return new ModelCost(2 * macs, params, model.sizeBytes());
  }
}
