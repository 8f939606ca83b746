package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QuantMath.Params;
import ai.distill.optimizer.quant.QuantMath.QType;
import ai.distill.optimizer.quant.QuantMath.WeightQuant;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a float model into QDQ form (static quantization): each quantized MatMul/Gemm reads its
 * activation through QuantizeLinear→DequantizeLinear with calibrated parameters, its weight as int8
 * (symmetric, per output channel by default) through DequantizeLinear, and its bias as int32 with
 * scale s_x·s_w; each quantized Gather reads an int8 table and is followed by a DequantizeLinear.
 * ONNX Runtime then fuses these patterns into integer kernels. Stateless.
 */
public final class QdqRewriter {

  /** Ops that only move or reshape data and accept any element type. */
  static final Set<String> SHAPE_ONLY =
      Set.of("Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose", "Identity");

  private QdqRewriter() {}

  /**
   * The QDQ model.
   *
   * @param ranges calibrated range per activation tensor (every non-Gather target's activation)
   * @param fp32Layers layers to leave in float
   */
  public static OnnxModel rewrite(
      OnnxModel model,
      List<QuantTarget> targets,
      Map<String, Range> ranges,
      QuantizeOptions o,
      Set<String> fp32Layers) {
    return rewrite(model, targets, ranges, Map.of(), o, fp32Layers);
  }

  /**
   * {@link #rewrite} with the calibration mean of each input feature of 4-bit layers' activations
   * ({@link Calibrator#featureMeans}): their biases are corrected for the mean error of their 4-bit
   * weights ({@link Int4Weights#biasCorrection}).
   */
  public static OnnxModel rewrite(
      OnnxModel model,
      List<QuantTarget> targets,
      Map<String, Range> ranges,
      Map<String, float[]> biasShifts,
      QuantizeOptions o,
      Set<String> fp32Layers) {
    return rewrite(model, targets, ranges, biasShifts, o, fp32Layers, Set.of());
  }

  /**
   * {@link #rewrite} with {@code eightBitLayers} written in 8 bits although 4 were asked for (the
   * gate's fallback for {@link #fourBitLayers}).
   */
  public static OnnxModel rewrite(
      OnnxModel model,
      List<QuantTarget> targets,
      Map<String, Range> ranges,
      Map<String, float[]> biasShifts,
      QuantizeOptions o,
      Set<String> fp32Layers,
      Set<String> eightBitLayers) {
    checkOpset(model);
    boolean perChannel = o.perChannel() && model.opsetVersion() >= 13;
    Map<Integer, QuantTarget> byIndex = quantizedByNode(targets, fp32Layers);
    Map<String, TensorProto> inits = model.initializers();
    Emitter e = new Emitter(model);
    e.tableType = o.activationType();
    e.tableBits = o.embeddingBits();
    e.eightBitLayers = eightBitLayers;
    Map<String, Params> actParams = new HashMap<>();
    List<NodeProto> nodes = model.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto node = nodes.get(i);
      QuantTarget t = byIndex.get(i);
      if (e.emitUnlessMatMul(i, node, t, inits, o.reduceRange())) {
        continue;
      }
      String a = t.activation();
      Params ap = actParams.get(a);
      String aDq = a + "_dequantized";
      if (ap == null) {
        Range r = ranges.get(a);
        if (r == null) {
          throw new IllegalStateException(
              "no calibrated range for activation '" + a + "' of " + t.layer());
        }
        ap = QuantMath.activation(r.min(), r.max(), o.activationType(), o.symmetricActivations());
        actParams.put(a, ap);
        QType qt = o.activationType();
        e.inits.add(TensorProtos.floats(a + "_scale", new float[] {ap.scale()}));
        e.inits.add(zeroPoint(a + "_zero_point", qt, ap.zeroPoint()));
        e.nodes.add(
            node(
                "QuantizeLinear",
                a + "_QuantizeLinear",
                List.of(a, a + "_scale", a + "_zero_point"),
                a + "_quantized"));
        e.nodes.add(
            node(
                "DequantizeLinear",
                a + "_DequantizeLinear",
                List.of(a + "_quantized", a + "_scale", a + "_zero_point"),
                aDq));
      }
      TensorProto w = inits.get(t.weight());
      int rows = (int) w.getDims(0);
      int cols = (int) w.getDims(1);
      int axis = t.weightAxis();
      String wKey = t.weight() + (perChannel ? "" : "_pt");
      WeightQuant wq = e.weights.get(wKey);
      String wDq = t.weight() + "_dequantized";
      if (wq == null) {
        boolean fourBits =
            Int4Weights.is4Bit(o, perChannel, rows, cols) && !eightBitLayers.contains(t.layer());
        wq =
            fourBits
                ? Int4Weights.quantize(TensorProtos.toFloats(w), rows, cols, axis)
                : QuantMath.quantizeWeights(
                    TensorProtos.toFloats(w), rows, cols, axis, perChannel, o.reduceRange());
        e.weights.put(wKey, wq);
        int channels = wq.scales().length;
        long[] sDims = perChannel ? new long[] {channels} : new long[0];
        if (fourBits) {
          e.nodes.addAll(
              Int4Weights.decodeNodes(t.weight() + "_quantized", wq.values(), rows, cols, e.inits));
        } else {
          e.inits.add(TensorProtos.int8(t.weight() + "_quantized", wq.values(), rows, cols));
        }
        e.inits.add(TensorProtos.floats(t.weight() + "_scale", wq.scales(), sDims));
        e.inits.add(TensorProtos.int8(t.weight() + "_zero_point", new byte[channels], sDims));
        NodeProto.Builder dq =
            node(
                "DequantizeLinear",
                t.weight() + "_DequantizeLinear",
                List.of(
                    t.weight() + "_quantized", t.weight() + "_scale", t.weight() + "_zero_point"),
                wDq)
                .toBuilder();
        if (perChannel) {
          dq.addAttribute(GraphBuilder.attr("axis", (long) axis));
        }
        e.nodes.add(dq.build());
      }
      NodeProto.Builder q = node.toBuilder().setInput(0, aDq).setInput(1, wDq);
      if (t.bias() != null) {
        float[] b = TensorProtos.toFloats(inits.get(t.bias()));
        float[] shift = biasShifts.get(t.layer());
        for (int c = 0; shift != null && c < b.length; c++) {
          b[c] += shift[c];
        }
        int[] bq = new int[b.length];
        float[] bs = new float[b.length];
        for (int c = 0; c < b.length; c++) {
          bs[c] = ap.scale() * wq.scales()[perChannel ? c : 0];
          bq[c] = QuantMath.quantizeBias(b[c], bs[c]);
        }
        String bn = t.bias() + "_" + t.layer();
        e.inits.add(TensorProtos.ints(bn + "_quantized", bq, b.length));
        e.inits.add(TensorProtos.floats(bn + "_scale", bs, b.length));
        e.inits.add(TensorProtos.ints(bn + "_zero_point", new int[b.length], b.length));
        e.nodes.add(
            node(
                    "DequantizeLinear",
                    bn + "_DequantizeLinear",
                    List.of(bn + "_quantized", bn + "_scale", bn + "_zero_point"),
                    bn + "_dequantized")
                .toBuilder()
                .addAttribute(GraphBuilder.attr("axis", 0L))
                .build());
        q.setInput(2, bn + "_dequantized");
      }
      e.nodes.add(q.build());
    }
    return e.build(model);
  }

  static void checkOpset(OnnxModel model) {
    if (model.opsetVersion() < 13) {
      throw new IllegalArgumentException(
          "the model imports ONNX opset "
              + model.opsetVersion()
              + ", too old for per-axis QuantizeLinear/DequantizeLinear (expected: >= 13); re-export it with"
              + " opset 13 or newer");
    }
  }

  static TensorProto zeroPoint(String name, QType type, int zp) {
    return type == QType.INT8
        ? TensorProtos.int8(name, new byte[] {(byte) zp})
        : TensorProtos.uint8(name, new byte[] {(byte) zp});
  }

  /** Asymmetric per-tensor parameters covering every value of a table. */
  static Params tableParams(float[] values, QType type) {
    double min = 0;
    double max = 0;
    for (float v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return QuantMath.asymmetric(min, max, type.min, type.max);
  }

  static NodeProto node(String op, String name, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(name)
        .addAllInput(inputs)
        .addOutput(output)
        .build();
  }

  /** Accumulates the rewritten nodes and new initializers, then assembles the graph. */
  /** The targets to quantize (not left in float), by the index of their node. */
  static Map<Integer, QuantTarget> quantizedByNode(
      List<QuantTarget> targets, Set<String> fp32Layers) {
    Map<Integer, QuantTarget> byIndex = new HashMap<>();
    for (QuantTarget t : targets) {
      if (!fp32Layers.contains(t.layer())) {
        byIndex.put(t.nodeIndex(), t);
      }
    }
    return byIndex;
  }

  static final class Emitter {
    final List<NodeProto> nodes = new ArrayList<>();
    final List<TensorProto> inits = new ArrayList<>();
    final Map<String, WeightQuant> weights = new HashMap<>();
    private final Map<String, Float> tables = new HashMap<>();
    private boolean usesContribOps;
    private final List<NodeProto> source;
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final Map<Integer, List<NodeProto>> pending = new HashMap<>();
    private final Set<String> retyped = new HashSet<>();

    /**
     * Tables quantized per tensor, asymmetric, to this type (the activation type, so that a Concat
     * of lookups can run as QLinearConcat); null: int8 symmetric.
     */
    QType tableType;

    /** 8, or 4 for row-wise 4-bit tables read by {@code GatherBlockQuantized}. */
    int tableBits = 8;

    /** Layers kept at 8 bits although 4 were asked for. */
    Set<String> eightBitLayers = Set.of();

    /**
     * 4-bit tables read by ORT's contrib {@code GatherBlockQuantized} instead of decoded at session
     * load ({@link Int4Table#decodeNodes}); measured slower than FP32 lookups on ORT 1.29 CPU.
     */
    boolean gatherBlockQuantized;

    Emitter(OnnxModel model) {
      this.source = model.nodes();
      for (int i = 0; i < source.size(); i++) {
        for (String in : source.get(i).getInputList()) {
          consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
      }
      model.graph().getOutputList().forEach(v -> graphOutputs.add(v.getName()));
    }

    /**
     * Gather on an int8 table (per-tensor symmetric), then DequantizeLinear into the original
     * output. When the Gather feeds a chain of single-consumer shape-only ops (Unsqueeze, Reshape,
     * ...), those run on the int8 values and the DequantizeLinear moves after the chain: ONNX
     * Runtime would otherwise insert a QuantizeLinear/DequantizeLinear pair after each such op (QDQ
     * propagation) and run both per row.
     */
    void gather(int index, QuantTarget t, TensorProto table, boolean reduceRange) {
      if (tableBits == 4 && table.getDims(1) % 2 == 0 && !eightBitLayers.contains(t.layer())) {
        gather4(index, t, table);
        return;
      }
      String tq = t.weight() + "_quantized";
      Float scale = tables.get(t.weight());
      if (scale == null) {
        int rows = (int) table.getDims(0);
        int cols = (int) table.getDims(1);
        float[] values = TensorProtos.toFloats(table);
        if (tableType == null) {
          WeightQuant wq = QuantMath.quantizeWeights(values, rows, cols, 0, false, reduceRange);
          scale = wq.scales()[0];
          inits.add(TensorProtos.int8(tq, wq.values(), rows, cols));
          inits.add(TensorProtos.int8(t.weight() + "_zero_point", new byte[1]));
        } else {
          Params p = tableParams(values, tableType);
          scale = p.scale();
          byte[] q = new byte[values.length];
          for (int i = 0; i < values.length; i++) {
            q[i] = (byte) QuantMath.quantize(values[i], p, tableType.min, tableType.max);
          }
          inits.add(
              tableType == QType.INT8
                  ? TensorProtos.int8(tq, q, rows, cols)
                  : TensorProtos.uint8(tq, q, rows, cols));
          inits.add(zeroPoint(t.weight() + "_zero_point", tableType, p.zeroPoint()));
        }
        tables.put(t.weight(), scale);
        inits.add(TensorProtos.floats(t.weight() + "_scale", new float[] {scale}));
      }
      NodeProto gatherNode = source.get(index);
      String tensor = t.output();
      nodes.add(gatherNode.toBuilder().setInput(0, tq).setOutput(0, tensor + "_quantized").build());
      int last = index;
      while (true) {
        List<Integer> users = consumers.getOrDefault(tensor, List.of());
        if (users.size() != 1 || graphOutputs.contains(tensor)) {
          break;
        }
        int u = users.get(0);
        NodeProto next = source.get(u);
        if (!SHAPE_ONLY.contains(next.getOpType())
            || !next.getDomain().isEmpty()
            || next.getOutputCount() != 1
            || !next.getInput(0).equals(tensor)
            || next.getInputList().subList(1, next.getInputCount()).contains(tensor)
            || pending.containsKey(u)) {
          break;
        }
        pending.put(
            u,
            List.of(
                next.toBuilder()
                    .setInput(0, tensor + "_quantized")
                    .setOutput(0, next.getOutput(0) + "_quantized")
                    .build()));
        retyped.add(tensor);
        tensor = next.getOutput(0);
        last = u;
      }
      NodeProto dq =
          node(
              "DequantizeLinear",
              tensor + "_DequantizeLinear",
              List.of(tensor + "_quantized", t.weight() + "_scale", t.weight() + "_zero_point"),
              tensor);
      if (last == index) {
        nodes.add(dq);
      } else {
        List<NodeProto> l = new ArrayList<>(pending.get(last));
        l.add(dq);
        pending.put(last, l);
      }
    }

    /**
     * A row-wise 4-bit table ({@link Int4Table}), decoded to float when ORT loads the model (or
     * read by {@code GatherBlockQuantized}); the Gather writes float rows into its original output.
     */
    private void gather4(int index, QuantTarget t, TensorProto table) {
      String w = t.weight();
      int rows = (int) table.getDims(0);
      int cols = (int) table.getDims(1);
      if (!tables.containsKey(w)) {
        Int4Table q = Int4Table.quantize(TensorProtos.toFloats(table), rows, cols);
        tables.put(w, Float.NaN);
        if (gatherBlockQuantized) {
          inits.addAll(q.initializers(w));
          usesContribOps = true;
        } else {
          inits.addAll(q.compactInitializers(w));
          nodes.addAll(Int4Table.decodeNodes(w, rows, cols, inits));
        }
      }
      NodeProto g = source.get(index);
      nodes.add(
          gatherBlockQuantized
              ? Int4Table.gatherNode(w, cols, g, t.output())
              : g.toBuilder().setInput(0, w + "_4bit_decoded").build());
    }

    /**
     * Emits node {@code index} when it is not a MatMul/Gemm target: nodes moved after a Gather
     * chain, untouched nodes, and Gather targets. Returns false when the caller must emit the
     * MatMul/Gemm.
     */
    boolean emitUnlessMatMul(
        int index,
        NodeProto node,
        QuantTarget t,
        Map<String, TensorProto> inits,
        boolean reduceRange) {
      if (emitPending(index)) {
        return true;
      }
      if (t == null) {
        nodes.add(node);
        return true;
      }
      if (t.kind() == QuantTarget.Kind.GATHER) {
        gather(index, t, inits.get(t.weight()), reduceRange);
        return true;
      }
      return false;
    }

    boolean emitPending(int index) {
      List<NodeProto> l = pending.remove(index);
      if (l == null) {
        return false;
      }
      nodes.addAll(l);
      return true;
    }

    /**
     * The graph with new nodes and initializers; float initializers nothing reads any more are
     * dropped.
     */
    OnnxModel build(OnnxModel model) {
      if (usesContribOps) {
        model = Int4Table.withContribDomain(model);
      }
      Set<String> used = new HashSet<>();
      for (NodeProto n : nodes) {
        used.addAll(n.getInputList());
      }
      model.graph().getOutputList().forEach(v -> used.add(v.getName()));
      GraphProto.Builder g =
          model.graph().toBuilder().clearNode().addAllNode(nodes).clearInitializer();
      for (TensorProto t : model.graph().getInitializerList()) {
        if (used.contains(t.getName())) {
          g.addInitializer(t);
        }
      }
      g.addAllInitializer(inits);
      Set<String> initNames = new HashSet<>();
      model.graph().getInitializerList().forEach(t -> initNames.add(t.getName()));
      List<ValueInfoProto> inputs = new ArrayList<>();
      for (ValueInfoProto v : model.graph().getInputList()) {
        if (!initNames.contains(v.getName()) || used.contains(v.getName())) {
          inputs.add(v);
        }
      }
      g.clearInput().addAllInput(inputs);
      // tensors that now hold int8 values were renamed; drop their stale float value infos
      List<ValueInfoProto> infos = new ArrayList<>();
      for (ValueInfoProto v : model.graph().getValueInfoList()) {
        if (!retyped.contains(v.getName())) {
          infos.add(v);
        }
      }
      g.clearValueInfo().addAllValueInfo(infos);
      return model.withGraph(g.build());
    }
  }
}
