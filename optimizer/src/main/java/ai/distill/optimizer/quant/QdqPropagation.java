package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QuantMath.Params;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Integer-domain propagation: candidates for keeping tensors quantized between integer kernels
 * (Concat, Sigmoid, Add, Mul, Softmax, and MatMul of two activations), and the rewrite that puts a
 * QuantizeLinear→DequantizeLinear pair on each tensor a candidate needs, so that ONNX Runtime can
 * fuse the op into its integer kernel (QLinearConcat, QLinearSigmoid, QLinearAdd, QLinearMul,
 * QLinearSoftmax, QLinearMatMul/MatMulIntegerToFloat). Whether a candidate is taken is decided by
 * {@link PropagationSearch} from ORT's optimized graph and a benchmark, never by op type alone.
 * Stateless.
 */
public final class QdqPropagation {

  /**
   * One op whose inputs and output would stay quantized.
   *
   * @param layer the node name (or {@code <op>_<index>})
   * @param op the float op type
   * @param tensors the float tensors that get a Q/DQ pair (its activation inputs and its output)
   * @param kernels op types of ORT's optimized graph that show the op was fused into an integer
   *     kernel
   */
  public record Candidate(String layer, String op, List<String> tensors, Set<String> kernels) {}

  /** ORT's integer kernels per float op type (QDQ fusion targets). */
  static final Map<String, Set<String>> KERNELS =
      Map.of(
          "Concat", Set.of("QLinearConcat"),
          "Sigmoid", Set.of("QLinearSigmoid"),
          "Add", Set.of("QLinearAdd"),
          "Mul", Set.of("QLinearMul"),
          "Softmax", Set.of("QLinearSoftmax"),
          "MatMul", Set.of("QLinearMatMul", "MatMulIntegerToFloat", "MatMulInteger"));

  private QdqPropagation() {}

  /**
   * The candidates of a float model, in graph order: every Concat, Sigmoid, Add, Mul and Softmax in
   * the default domain, and every MatMul whose two inputs are both computed (not initializers).
   * Inputs that are initializers are left alone (Add/Mul with a constant stay candidates only when
   * at least one input is computed).
   */
  public static List<Candidate> find(OnnxModel model) {
    Map<String, TensorProto> inits = model.initializers();
    Set<String> graphInputs = new HashSet<>();
    model.graph().getInputList().forEach(v -> graphInputs.add(v.getName()));
    Map<String, NodeProto> producers = model.producers();
    Set<String> floats = floatTensors(model);
    List<Candidate> out = new ArrayList<>();
    List<NodeProto> nodes = model.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      if (!n.getDomain().isEmpty() || !KERNELS.containsKey(n.getOpType())) {
        continue;
      }
      List<String> tensors = new ArrayList<>();
      boolean ok = n.getOutputCount() == 1 && floats.contains(n.getOutput(0));
      for (String in : n.getInputList()) {
        if (inits.containsKey(in)) {
          continue;
        }
        if (!floats.contains(in) || !producers.containsKey(in) && !graphInputs.contains(in)) {
          ok = false; // a Constant or an integer tensor (shape arithmetic): not an activation
        }
        tensors.add(in);
      }
      if (!ok || tensors.isEmpty()) {
        continue;
      }
      if (n.getOpType().equals("MatMul") && tensors.size() != 2) {
        continue; // weight MatMuls are QuantTargets
      }
      tensors.add(n.getOutput(0));
      String layer = n.getName().isEmpty() ? n.getOpType() + "_" + i : n.getName();
      out.add(
          new Candidate(
              layer,
              n.getOpType(),
              List.copyOf(new LinkedHashSet<>(tensors)),
              KERNELS.get(n.getOpType())));
    }
    return out;
  }

  /**
   * The FLOAT tensors of a model, by a forward pass over the nodes: graph inputs and initializers
   * by their type; Shape, Size, NonZero, ArgMax/ArgMin give integers; Cast gives its {@code to};
   * Constant its value's type; Gather its table's type; every other op its first input's type.
   */
  static Set<String> floatTensors(OnnxModel model) {
    int flt = TensorProto.DataType.FLOAT_VALUE;
    Map<String, Integer> types = new HashMap<>();
    model
        .graph()
        .getInputList()
        .forEach(v -> types.put(v.getName(), v.getType().getTensorType().getElemType()));
    model.graph().getInitializerList().forEach(t -> types.put(t.getName(), t.getDataType()));
    for (NodeProto n : model.nodes()) {
      int type =
          switch (n.getOpType()) {
            case "Shape", "Size", "NonZero", "ArgMax", "ArgMin" -> TensorProto.DataType.INT64_VALUE;
            case "Cast" -> (int) QuantTarget.intAttr(n, "to", flt);
            case "Constant" ->
                n.getAttributeList().stream()
                    .filter(a -> a.getName().equals("value"))
                    .map(a -> a.getT().getDataType())
                    .findFirst()
                    .orElse(TensorProto.DataType.INT64_VALUE);
            default -> n.getInputCount() == 0 ? flt : types.getOrDefault(n.getInput(0), flt);
          };
      for (String out : n.getOutputList()) {
        types.put(out, type);
      }
    }
    Set<String> floats = new HashSet<>();
    types.forEach(
        (k, v) -> {
          if (v == flt) {
            floats.add(k);
          }
        });
    return floats;
  }

  /**
   * {@code qdq} with a Q→DQ pair on each of {@code tensors} that is not quantized there already (a
   * DequantizeLinear output, or read by a QuantizeLinear). A graph output keeps its name: its
   * producer writes {@code <name>_float} and the DequantizeLinear writes the output.
   *
   * @param ranges the calibrated range of every tensor in {@code tensors}
   */
  public static OnnxModel apply(
      OnnxModel qdq, Set<String> tensors, Map<String, Range> ranges, QuantizeOptions o) {
    List<NodeProto> nodes = new ArrayList<>(qdq.nodes());
    Set<String> graphOutputs = new HashSet<>();
    qdq.graph().getOutputList().forEach(v -> graphOutputs.add(v.getName()));
    Set<String> graphInputs = new HashSet<>();
    qdq.graph().getInputList().forEach(v -> graphInputs.add(v.getName()));
    List<TensorProto> inits = new ArrayList<>();
    for (String t : tensors) {
      if (alreadyQuantized(nodes, t) || indexOfProducer(nodes, t) < 0 && !graphInputs.contains(t)) {
        continue; // quantized by an earlier apply, or inside a chain that now runs on 8 bits
      }
      Range r = ranges.get(t);
      if (r == null) {
        throw new IllegalStateException("no calibrated range for tensor '" + t + "'");
      }
      Params p = QuantMath.activation(r.min(), r.max(), o.activationType(), false);
      if (producedBy(nodes, t, "Softmax")) {
        // ORT's QLinearSoftmax is exact only for the full [0, 1) output range at scale 1/256
        p = new Params(1f / 256, o.activationType().min);
      }
      String scale = t + "_p_scale";
      String zp = t + "_p_zero_point";
      inits.add(TensorProtos.floats(scale, new float[] {p.scale()}));
      inits.add(QdqRewriter.zeroPoint(zp, o.activationType(), p.zeroPoint()));
      int producer = -1;
      for (int i = 0; i < nodes.size(); i++) {
        if (nodes.get(i).getOutputList().contains(t)) {
          producer = i;
          break;
        }
      }
      String source = t;
      String dequantized = t + "_p_dequantized";
      if (graphOutputs.contains(t)) {
        if (producer < 0) {
          continue; // a graph input passed straight through
        }
        source = t + "_float";
        dequantized = t;
        NodeProto.Builder b = nodes.get(producer).toBuilder();
        b.setOutput(b.getOutputList().indexOf(t), source);
        nodes.set(producer, b.build());
      } else {
        for (int i = 0; i < nodes.size(); i++) {
          NodeProto n = nodes.get(i);
          if (n.getInputList().contains(t)) {
            NodeProto.Builder b = n.toBuilder();
            for (int k = 0; k < b.getInputCount(); k++) {
              if (b.getInput(k).equals(t)) {
                b.setInput(k, dequantized);
              }
            }
            nodes.set(i, b.build());
          }
        }
      }
      // pass-through producers of t (Reshape, Transpose, ...) run on the 8-bit values: quantize
      // where the chain starts, so that ORT can also fuse that Q into the op before it
      String quantize = source;
      int quantizeAfter = producer;
      if (!graphOutputs.contains(t)) {
        while (quantizeAfter >= 0) {
          NodeProto step = nodes.get(quantizeAfter);
          String data = step.getInputCount() == 0 ? "" : step.getInput(0);
          int dataProducer = indexOfProducer(nodes, data);
          if (!QdqRewriter.SHAPE_ONLY.contains(step.getOpType())
              || !step.getDomain().isEmpty()
              || step.getOutputCount() != 1
              || dataProducer < 0
              || consumers(nodes, data) != 1
              || graphOutputs.contains(data)
              || nodes.get(dataProducer).getOpType().equals("DequantizeLinear")) {
            break;
          }
          nodes.set(
              quantizeAfter,
              step.toBuilder()
                  .setInput(0, data + "_p_q")
                  .setOutput(0, step.getOutput(0) + "_p_q")
                  .build());
          quantize = data;
          quantizeAfter = dataProducer;
        }
      }
      NodeProto q =
          QdqRewriter.node(
              "QuantizeLinear",
              t + "_p_QuantizeLinear",
              List.of(quantize, scale, zp),
              (quantize.equals(source) ? t : quantize) + "_p_q");
      NodeProto dq =
          QdqRewriter.node(
              "DequantizeLinear",
              t + "_p_DequantizeLinear",
              List.of(t + "_p_q", scale, zp),
              dequantized);
      nodes.add(producer + 1, dq);
      nodes.add(quantizeAfter + 1, q);
    }
    GraphProto g =
        qdq.graph().toBuilder().clearNode().addAllNode(nodes).addAllInitializer(inits).build();
    return qdq.withGraph(g);
  }

  private static int indexOfProducer(List<NodeProto> nodes, String t) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).getOutputList().contains(t)) {
        return i;
      }
    }
    return -1;
  }

  private static long consumers(List<NodeProto> nodes, String t) {
    return nodes.stream().flatMap(n -> n.getInputList().stream()).filter(t::equals).count();
  }

  private static boolean producedBy(List<NodeProto> nodes, String t, String op) {
    return nodes.stream().anyMatch(n -> n.getOpType().equals(op) && n.getOutputList().contains(t));
  }

  /** Whether {@code t} is already carried quantized: a DQ output, or read by a Q. */
  private static boolean alreadyQuantized(List<NodeProto> nodes, String t) {
    for (NodeProto n : nodes) {
      if (n.getName().equals(t + "_p_QuantizeLinear")) {
        return true; // an earlier apply, whose Q may sit before a pass-through chain
      }
      if (n.getOpType().equals("DequantizeLinear") && n.getOutputList().contains(t)) {
        return true;
      }
      if (n.getOpType().equals("QuantizeLinear") && n.getInput(0).equals(t)) {
        return true;
      }
    }
    return false;
  }

  /** Every tensor of {@code candidates}, for one calibration pass. */
  static Set<String> tensorsOf(List<Candidate> candidates) {
    Set<String> all = new LinkedHashSet<>();
    candidates.forEach(c -> all.addAll(c.tensors()));
    return all;
  }

  /** Op counts of kernels ORT formed, minus those of {@code before}: the kernels gained. */
  static Map<String, Integer> gained(Map<String, Integer> before, Map<String, Integer> after) {
    Map<String, Integer> d = new HashMap<>();
    after.forEach(
        (k, v) -> {
          int diff = v - before.getOrDefault(k, 0);
          if (diff > 0) {
            d.put(k, diff);
          }
        });
    return d;
  }
}
