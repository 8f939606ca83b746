package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.QuantMath.WeightQuant;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dynamic (weights-only) quantization: weights become int8 ahead of time, activations are quantized
 * at run time. Each MatMul/Gemm becomes DynamicQuantizeLinear → MatMulInteger → Cast →
 * Mul(x_scale·w_scale) [→ Add bias], the pattern ONNX Runtime fuses into MatMulIntegerToFloat /
 * DynamicQuantizeMatMul. Gathers get an int8 table as in {@link QdqRewriter}. No calibration rows
 * are needed. Stateless.
 */
public final class DynamicRewriter {

  private DynamicRewriter() {}

  public static OnnxModel rewrite(
      OnnxModel model, List<QuantTarget> targets, QuantizeOptions o, Set<String> fp32Layers) {
    QdqRewriter.checkOpset(model);
    Map<Integer, QuantTarget> byIndex = QdqRewriter.quantizedByNode(targets, fp32Layers);
    Map<String, TensorProto> inits = model.initializers();
    QdqRewriter.Emitter e = new QdqRewriter.Emitter(model);
    e.tableBits = o.embeddingBits();
    Map<String, String> dynamicInputs = new HashMap<>();
    List<NodeProto> nodes = model.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto node = nodes.get(i);
      QuantTarget t = byIndex.get(i);
      if (e.emitUnlessMatMul(i, node, t, inits, o.reduceRange())) {
        continue;
      }
      String a = t.activation();
      String aq = dynamicInputs.get(a);
      if (aq == null) {
        aq = a + "_dyn";
        dynamicInputs.put(a, aq);
        e.nodes.add(
            NodeProto.newBuilder()
                .setOpType("DynamicQuantizeLinear")
                .setName(a + "_DynamicQuantizeLinear")
                .addInput(a)
                .addOutput(aq + "_quantized")
                .addOutput(aq + "_scale")
                .addOutput(aq + "_zero_point")
                .build());
      }
      TensorProto w = inits.get(t.weight());
      int rows = (int) w.getDims(0);
      int cols = (int) w.getDims(1);
      float[] values = TensorProtos.toFloats(w);
      if (t.kind() == QuantTarget.Kind.GEMM && t.transB()) {
        values = transpose(values, rows, cols);
        int tmp = rows;
        rows = cols;
        cols = tmp;
      }
      // [K, N]: one scale per output column
      String wn = t.weight() + "_" + t.layer() + "_dyn";
      WeightQuant wq =
          QuantMath.quantizeWeights(values, rows, cols, 1, o.perChannel(), o.reduceRange());
      int channels = wq.scales().length;
      long[] sDims = o.perChannel() ? new long[] {channels} : new long[0];
      e.inits.add(TensorProtos.int8(wn + "_quantized", wq.values(), rows, cols));
      e.inits.add(TensorProtos.floats(wn + "_scale", wq.scales(), sDims));
      e.inits.add(TensorProtos.int8(wn + "_zero_point", new byte[channels], sDims));
      String p = t.layer() + "_dyn";
      e.nodes.add(
          QdqRewriter.node(
              "MatMulInteger",
              p + "_MatMulInteger",
              List.of(aq + "_quantized", wn + "_quantized", aq + "_zero_point", wn + "_zero_point"),
              p + "_int32"));
      e.nodes.add(
          NodeProto.newBuilder()
              .setOpType("Cast")
              .setName(p + "_Cast")
              .addInput(p + "_int32")
              .addOutput(p + "_float")
              .addAttribute(GraphBuilder.attr("to", (long) DataType.FLOAT.getNumber()))
              .build());
      e.nodes.add(
          QdqRewriter.node(
              "Mul", p + "_ScaleProduct", List.of(aq + "_scale", wn + "_scale"), p + "_scales"));
      String out = t.bias() == null ? t.output() : p + "_nobias";
      e.nodes.add(
          QdqRewriter.node("Mul", p + "_Rescale", List.of(p + "_float", p + "_scales"), out));
      if (t.bias() != null) {
        e.nodes.add(QdqRewriter.node("Add", p + "_Bias", List.of(out, t.bias()), t.output()));
      }
    }
    return e.build(model);
  }

  static float[] transpose(float[] m, int rows, int cols) {
    float[] t = new float[m.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = m[r * cols + c];
      }
    }
    return t;
  }
}
