package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.distill.optimizer.quant.PropagationSearch.Decision;
import ai.distill.optimizer.quant.QuantMath.Params;
import ai.distill.optimizer.table.RowTable;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Moves a QuantizeLinear up through a Concat and the shape-only ops around it, so that the Concat
 * runs on 8-bit values, the way ONNX Runtime's own static quantizer leaves an embedding model: the
 * 8-bit lookups feed the Concat without a DequantizeLinear, the float inputs (a dense projection)
 * get their QuantizeLinear right after their Gemm (which ORT then fuses into a QGemm with an 8-bit
 * output), and the QuantizeLinear→DequantizeLinear round trip in front of the next Gemm is gone.
 *
 * <p>The rewrite is exact for the QDQ graph as written: QuantizeLinear is elementwise, so it
 * commutes with Concat and shape-only ops; {@code Q(DQ(x))} with equal parameters is {@code x}; and
 * {@code Q(DQ(Gather(T, ids)))} is {@code Gather(Q(DQ(T)), ids)} with the constant {@code Q(DQ(T))}
 * computed here (the table requantized at the Concat's scale, the values the graph computed at run
 * time); a lookup in a float table that is constant (a 4-bit table decoded at load) gets the
 * QuantizeLinear on its table, which ORT folds at load. Unlike QLinearConcat it needs no
 * requantizing kernel: all inputs already share the scale. Whether to take it is decided like every
 * integer-domain candidate ({@link #search}). Stateless.
 */
public final class QuantizePushUp {

  /** Ops that only move or reshape values (data in input 0); they run on 8-bit values as well. */
  static final Set<String> SHAPE_ONLY =
      Set.of("Flatten", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Identity");

  private QuantizePushUp() {}

  /**
   * The QuantizeLinear nodes (by output name) whose input comes, through shape-only ops with one
   * consumer each, from a Concat: the candidates.
   */
  public static List<String> candidates(OnnxModel qdq) {
    Map<String, NodeProto> producers = qdq.producers();
    Map<String, List<NodeProto>> consumers = qdq.consumers();
    List<String> out = new ArrayList<>();
    for (NodeProto q : qdq.nodes()) {
      if (!q.getOpType().equals("QuantizeLinear") || perTensor(q, qdq) == null) {
        continue;
      }
      String x = q.getInput(0);
      NodeProto p = producers.get(x);
      while (p != null
          && SHAPE_ONLY.contains(p.getOpType())
          && consumers.getOrDefault(x, List.of()).size() == 1) {
        x = p.getInput(0);
        p = producers.get(x);
      }
      if (p != null
          && p.getOpType().equals("Concat")
          && consumers.getOrDefault(x, List.of()).size() == 1) {
        out.add(q.getOutput(0));
      }
    }
    return out;
  }

  /** The scale and zero point of a per-tensor Q/DQ node with constant parameters, else null. */
  private static Params perTensor(NodeProto n, OnnxModel m) {
    if (n.getInputCount() < 3) {
      return null;
    }
    TensorProto s = m.initializers().get(n.getInput(1));
    TensorProto z = m.initializers().get(n.getInput(2));
    if (s == null || z == null || TensorProtos.elementCount(s) != 1) {
      return null;
    }
    if (TensorProtos.elementCount(z) != 1 || TensorProtos.type(s) != DataType.FLOAT) {
      return null;
    }
    return new Params(TensorProtos.toFloats(s)[0], zeroPoint(z));
  }

  private static int zeroPoint(TensorProto z) {
    byte b = z.getRawData().isEmpty() ? (byte) z.getInt32Data(0) : z.getRawData().byteAt(0);
    return TensorProtos.type(z) == DataType.UINT8 ? b & 0xff : b;
  }

  private static DataType type(NodeProto qOrDq, OnnxModel m) {
    return TensorProtos.type(m.initializers().get(qOrDq.getInput(2)));
  }

  /**
   * The model with the QuantizeLinear writing {@code qOutput} moved up as far as it goes: through
   * shape-only ops and Concats (one QuantizeLinear per Concat input), into a DequantizeLinear of
   * the same parameters (both vanish) or of an 8-bit table lookup (the table is requantized).
   * Returns {@code qdq} itself when the node is not a candidate.
   */
  public static OnnxModel apply(OnnxModel qdq, String qOutput) {
    NodeProto start = qdq.producers().get(qOutput);
    if (start == null
        || !start.getOpType().equals("QuantizeLinear")
        || perTensor(start, qdq) == null) {
      return qdq;
    }
    List<NodeProto> nodes = new ArrayList<>(qdq.nodes());
    List<TensorProto> added = new ArrayList<>();
    Set<String> outputs = new HashSet<>();
    qdq.graph().getOutputList().forEach(v -> outputs.add(v.getName()));
    Deque<NodeProto> work = new ArrayDeque<>(List.of(start));
    int fresh = 0;
    while (!work.isEmpty()) {
      NodeProto q = work.pop();
      OnnxModel now = withNodes(qdq, nodes, added);
      String x = q.getInput(0);
      NodeProto p = now.producers().get(x);
      if (p == null || outputs.contains(x) || now.consumers().get(x).size() != 1) {
        continue; // a graph input or a shared tensor: the QuantizeLinear stays
      }
      int at = nodes.indexOf(p);
      if (SHAPE_ONLY.contains(p.getOpType())) {
        String q8 = p.getInput(0) + "_q8_" + fresh++;
        NodeProto moved =
            q.toBuilder().setName(q8).setInput(0, p.getInput(0)).setOutput(0, q8).build();
        nodes.set(at, p.toBuilder().setInput(0, q8).setOutput(0, q.getOutput(0)).build());
        nodes.add(at, moved);
        nodes.remove(q);
        work.push(moved);
      } else if (p.getOpType().equals("Concat")) {
        NodeProto.Builder concat = p.toBuilder().setOutput(0, q.getOutput(0));
        List<NodeProto> qs = new ArrayList<>();
        for (int i = 0; i < p.getInputCount(); i++) {
          String q8 = p.getInput(i) + "_q8_" + fresh++;
          qs.add(q.toBuilder().setName(q8).setInput(0, p.getInput(i)).setOutput(0, q8).build());
          concat.setInput(i, q8);
        }
        nodes.set(at, concat.build());
        nodes.addAll(at, qs);
        nodes.remove(q);
        qs.forEach(work::push);
      } else if (p.getOpType().equals("DequantizeLinear")) {
        foldDequantize(q, p, now, nodes, added);
      } else if (p.getOpType().equals("Gather")
          && QuantTarget.intAttr(p, "axis", 0) == 0
          && isConstant(p.getInput(0), now)
          && now.consumers().get(p.getInput(0)).size() == 1) {
        // a float table (e.g. 4-bit decoded at load): quantize the table instead, ORT folds it
        String q8 = p.getInput(0) + "_q8_" + fresh++;
        nodes.set(at, p.toBuilder().setInput(0, q8).setOutput(0, q.getOutput(0)).build());
        nodes.add(
            at, q.toBuilder().setName(q8).setInput(0, p.getInput(0)).setOutput(0, q8).build());
        nodes.remove(q);
      }
    }
    return LookupFusion.withoutDeadCode(withNodes(qdq, nodes, added));
  }

  /**
   * {@code Q(DQ(xq))}: nothing when both have the same parameters; a requantized table when xq is
   * an 8-bit lookup (through Identity) with one consumer; else left as it is.
   */
  private static void foldDequantize(
      NodeProto q, NodeProto dq, OnnxModel now, List<NodeProto> nodes, List<TensorProto> added) {
    Params qp = perTensor(q, now);
    Params dp = perTensor(dq, now);
    if (dp == null || type(q, now) != type(dq, now)) {
      return;
    }
    int at = nodes.indexOf(q);
    if (qp.equals(dp)) {
      nodes.set(
          at, QdqRewriter.node("Identity", q.getName(), List.of(dq.getInput(0)), q.getOutput(0)));
      return;
    }
    String xq = dq.getInput(0);
    NodeProto g = now.producers().get(xq);
    while (g != null && g.getOpType().equals("Identity") && now.consumers().get(xq).size() == 1) {
      xq = g.getInput(0);
      g = now.producers().get(xq);
    }
    TensorProto table = g == null ? null : now.initializers().get(g.getInput(0));
    if (table == null
        || !g.getOpType().equals("Gather")
        || QuantTarget.intAttr(g, "axis", 0) != 0
        || now.consumers().get(xq).size() != 1
        || now.consumers().get(g.getInput(0)).size() != 1
        || TensorProtos.type(table) != type(q, now)) {
      return;
    }
    QuantMath.QType t =
        type(q, now) == DataType.UINT8 ? QuantMath.QType.UINT8 : QuantMath.QType.INT8;
    byte[] old = table.getRawData().toByteArray();
    byte[] requantized = new byte[old.length];
    for (int i = 0; i < old.length; i++) {
      int v = t == QuantMath.QType.UINT8 ? old[i] & 0xff : old[i];
      requantized[i] = (byte) QuantMath.quantize(QuantMath.dequantize(v, dp), qp, t.min, t.max);
    }
    String name = g.getInput(0) + "_requantized";
    long[] dims = TensorProtos.dims(table);
    added.add(
        t == QuantMath.QType.UINT8
            ? TensorProtos.uint8(name, requantized, dims)
            : TensorProtos.int8(name, requantized, dims));
    nodes.set(
        at,
        g.toBuilder()
            .setName(g.getName() + "_requantized")
            .setInput(0, name)
            .setOutput(0, q.getOutput(0))
            .build());
  }

  /** An initializer, or computed from initializers only (ORT folds it at load). */
  static boolean isConstant(String tensor, OnnxModel m) {
    if (m.initializers().containsKey(tensor)) {
      return true;
    }
    NodeProto p = m.producers().get(tensor);
    if (p == null || !p.getDomain().isEmpty()) {
      return false;
    }
    for (String in : p.getInputList()) {
      if (!in.isEmpty() && !isConstant(in, m)) {
        return false;
      }
    }
    return true;
  }

  private static OnnxModel withNodes(OnnxModel m, List<NodeProto> nodes, List<TensorProto> added) {
    GraphProto g =
        m.graph().toBuilder().clearNode().addAllNode(nodes).addAllInitializer(added).build();
    return m.withGraph(g);
  }

  /**
   * Decides each candidate on {@code start} in turn: taken only when ORT's optimized graph runs
   * fewer QuantizeLinear/DequantizeLinear nodes with it, agrees with the QDQ graph, the model gets
   * faster ({@link PropagationSearch#MIN_SPEEDUP}) and the gate still holds.
   */
  static PropagationSearch.Outcome search(
      OnnxModel start,
      RowTable benchRows,
      Function<OnnxModel, GateVerdict> gate,
      QuantizeOptions o,
      ProgressListener progress) {
    return search(start, benchRows, gate, PropagationSearch.MIN_SPEEDUP, o, progress);
  }

  /** {@link #search} taking a candidate only when more than {@code minSpeedup} times as fast. */
  static PropagationSearch.Outcome search(
      OnnxModel start,
      RowTable benchRows,
      Function<OnnxModel, GateVerdict> gate,
      double minSpeedup,
      QuantizeOptions o,
      ProgressListener progress) {
    OnnxModel current = start;
    List<Decision> decisions = new ArrayList<>();
    List<String> candidates = candidates(start);
    for (int i = 0; i < candidates.size(); i++) {
      String c = candidates.get(i);
      String layer = "8-bit Concat before " + c;
      progress.checkCancelled("propagate");
      OnnxModel next = apply(current, c);
      if (next == current) {
        continue;
      }
      int before = roundTrips(current, o);
      int after = roundTrips(next, o);
      Set<String> kernels = Set.of("Concat(uint8/int8)");
      String reason;
      double speedup = Double.NaN;
      boolean taken = false;
      if (after >= before) {
        reason = "ORT still runs " + after + " Q/DQ nodes (was " + before + "): nothing saved";
        kernels = Set.of();
      } else if (!(PropagationSearch.fusedDeviation(next, benchRows) <= o.maxMeanAbsDiff())) {
        reason = "ORT's optimized graph strays from the QDQ graph it replaces";
      } else if (!((speedup = PropagationSearch.speedup(current, next, benchRows, o))
          > minSpeedup)) {
        reason = String.format(Locale.ROOT, "not faster (%.3fx)", speedup);
      } else {
        GateVerdict v = gate.apply(next);
        taken = v.passed();
        reason =
            taken
                ? "faster and within the gate ("
                    + before
                    + " -> "
                    + after
                    + " Q/DQ nodes at run time)"
                : "accuracy gate fails with it: " + String.join("; ", v.violations());
      }
      decisions.add(new Decision(layer, "Concat", kernels, speedup, taken, reason));
      progress.progress(
          "propagate",
          (i + 1.0) / candidates.size(),
          "integer domain: " + layer + ": " + (taken ? "taken" : reason));
      if (taken) {
        current = next;
      }
    }
    return new PropagationSearch.Outcome(current, List.copyOf(decisions));
  }

  /**
   * {@link #search} on the gated model, after the other integer-domain decisions (appended to
   * {@code decisions}): the gated outcome with the taken rewrites, judged again.
   */
  static AccuracyGate.Outcome afterSearch(
      AccuracyGate.Outcome gated,
      RowTable heldOut,
      AccuracyGate gate,
      Function<OnnxModel, AccuracyGate.Evaluation> evaluate,
      QuantizeOptions o,
      ProgressListener progress,
      List<Decision> decisions) {
    PropagationSearch.Outcome pushed =
        search(
            gated.model(),
            heldOut.slice(0, Math.min(256, heldOut.rows())),
            m -> gate.judge(evaluate.apply(m)),
            o,
            progress);
    decisions.addAll(pushed.decisions());
    if (pushed.model() == gated.model()) {
      return gated;
    }
    AccuracyGate.Evaluation e = evaluate.apply(pushed.model());
    return new AccuracyGate.Outcome(
        pushed.model(), e.comparison(), gated.fellBack(), gated.reasons(), gate.judge(e));
  }

  /** QuantizeLinear and DequantizeLinear nodes left in ORT's optimized graph. */
  static int roundTrips(OnnxModel m, QuantizeOptions o) {
    Map<String, Integer> ops = KernelCounter.count(m.toBytes(), o.threads()).ops();
    return ops.getOrDefault("QuantizeLinear", 0) + ops.getOrDefault("DequantizeLinear", 0);
  }
}
