package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TensorProtos;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fuses the per-field embedding lookups that PyTorch exports for a CTR model — for each field k,
 * {@code Unsqueeze(Gather(table_k, Gather(ids, k, axis=1)), 1)}, all concatenated on axis 1 — into
 * one lookup in one stacked table: {@code Gather(stacked, Add(Gather(ids, [k...], axis=1),
 * offsets))}. The float result is identical for ids inside each table (ids outside a table, which
 * ORT rejects per table, would read a neighbouring table instead); the graph loses 3 ops per field,
 * which at batch 256 cost more than the 8-bit lookups themselves. Stateless.
 */
public final class LookupFusion {

  private LookupFusion() {}

  /** One field's lookup feeding a Concat. */
  private record Lookup(String ids, long column, String table, long rows, long dim) {}

  /** The model with every run of at least two fusable lookups in a Concat fused; or itself. */
  public static OnnxModel apply(OnnxModel model) {
    if (model.opsetVersion() < 13) {
      return model;
    }
    Map<String, NodeProto> producers = model.producers();
    Map<String, List<NodeProto>> consumers = model.consumers();
    Map<String, TensorProto> inits = model.initializers();
    Set<String> int64Inputs = new HashSet<>();
    Map<String, Long> widths = new HashMap<>();
    for (ValueInfoProto v : model.graph().getInputList()) {
      if (v.getType().getTensorType().getElemType() == DataType.INT64_VALUE) {
        int64Inputs.add(v.getName());
        var shape = v.getType().getTensorType().getShape();
        if (shape.getDimCount() == 2 && shape.getDim(1).hasDimValue()) {
          widths.put(v.getName(), shape.getDim(1).getDimValue());
        }
      }
    }
    List<NodeProto> nodes = new ArrayList<>(model.nodes());
    List<TensorProto> added = new ArrayList<>();
    int fused = 0;
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto concat = nodes.get(i);
      if (!concat.getOpType().equals("Concat") || QuantTarget.intAttr(concat, "axis", 0) != 1) {
        continue;
      }
      List<String> inputs = new ArrayList<>();
      List<NodeProto> before = new ArrayList<>();
      List<Lookup> run = new ArrayList<>();
      List<String> runInputs = new ArrayList<>();
      List<String> all = new ArrayList<>(concat.getInputList());
      all.add(null); // flushes the last run
      for (String in : all) {
        Lookup l = in == null ? null : lookup(in, producers, consumers, inits, int64Inputs);
        if (l != null && (run.isEmpty() || compatible(run.get(0), l))) {
          run.add(l);
          runInputs.add(in);
          continue;
        }
        if (run.size() > 1) {
          flush(
              run,
              concat.getName() + "_lookups" + fused++,
              widths.getOrDefault(run.get(0).ids(), -1L),
              inputs,
              before,
              added,
              inits);
        } else {
          inputs.addAll(runInputs);
        }
        run.clear();
        runInputs.clear();
        if (l != null) {
          run.add(l);
          runInputs.add(in);
        } else if (in != null) {
          inputs.add(in);
        }
      }
      if (before.isEmpty()) {
        continue;
      }
      NodeProto replaced =
          inputs.size() == 1
              ? QdqRewriter.node("Identity", concat.getName(), inputs, concat.getOutput(0))
              : concat.toBuilder().clearInput().addAllInput(inputs).build();
      nodes.set(i, replaced);
      nodes.addAll(i, before);
      i += before.size();
    }
    if (added.isEmpty()) {
      return model;
    }
    GraphProto g =
        model.graph().toBuilder().clearNode().addAllNode(nodes).addAllInitializer(added).build();
    return withoutDeadCode(model.withGraph(g));
  }

  private static boolean compatible(Lookup a, Lookup b) {
    return a.ids().equals(b.ids()) && a.dim() == b.dim();
  }

  /**
   * Emits the fused lookup for a run of two or more lookups; when the run reads every column of its
   * ids in order ({@code idsWidth} columns), it reads the ids as they are, without selecting.
   */
  private static void flush(
      List<Lookup> run,
      String name,
      long idsWidth,
      List<String> inputs,
      List<NodeProto> before,
      List<TensorProto> added,
      Map<String, TensorProto> inits) {
    long[] columns = new long[run.size()];
    long[] offsets = new long[run.size()];
    long total = 0;
    int dim = (int) run.get(0).dim();
    for (int k = 0; k < run.size(); k++) {
      columns[k] = run.get(k).column();
      offsets[k] = total;
      total += run.get(k).rows();
    }
    float[] stacked = new float[(int) (total * dim)];
    int at = 0;
    for (Lookup l : run) {
      float[] t = TensorProtos.toFloats(inits.get(l.table()));
      System.arraycopy(t, 0, stacked, at, t.length);
      at += t.length;
    }
    added.add(TensorProtos.floats(name + "_table", stacked, total, dim));
    added.add(TensorProtos.longs(name + "_offsets", offsets, offsets.length));
    boolean inOrder = idsWidth == run.size();
    for (int k = 0; k < run.size(); k++) {
      inOrder &= columns[k] == k;
    }
    if (!inOrder) {
      added.add(TensorProtos.longs(name + "_columns", columns, columns.length));
      before.add(
          QdqRewriter.node(
                  "Gather",
                  name + "_select",
                  List.of(run.get(0).ids(), name + "_columns"),
                  name + "_field_ids")
              .toBuilder()
              .addAttribute(GraphBuilder.attr("axis", 1L))
              .build());
    }
    before.add(
        QdqRewriter.node(
            "Add",
            name + "_offset",
            List.of(inOrder ? run.get(0).ids() : name + "_field_ids", name + "_offsets"),
            name + "_ids"));
    before.add(
        QdqRewriter.node(
            "Gather", name, List.of(name + "_table", name + "_ids"), name + "_output"));
    inputs.add(name + "_output");
  }

  /** The lookup behind a Concat input, or null when it is not the exported pattern. */
  private static Lookup lookup(
      String in,
      Map<String, NodeProto> producers,
      Map<String, List<NodeProto>> consumers,
      Map<String, TensorProto> inits,
      Set<String> int64Inputs) {
    NodeProto unsq = producers.get(in);
    if (unsq == null
        || !unsq.getOpType().equals("Unsqueeze")
        || unsq.getInputCount() != 2
        || !isLongs(unsq.getInput(1), new long[] {1}, producers, inits)
        || consumers.getOrDefault(in, List.of()).size() != 1) {
      return null;
    }
    NodeProto gather = producers.get(unsq.getInput(0));
    if (gather == null
        || !gather.getOpType().equals("Gather")
        || QuantTarget.intAttr(gather, "axis", 0) != 0
        || consumers.getOrDefault(unsq.getInput(0), List.of()).size() != 1) {
      return null;
    }
    TensorProto table = inits.get(gather.getInput(0));
    if (table == null || TensorProtos.type(table) != DataType.FLOAT || table.getDimsCount() != 2) {
      return null;
    }
    NodeProto column = producers.get(gather.getInput(1));
    if (column == null
        || !column.getOpType().equals("Gather")
        || QuantTarget.intAttr(column, "axis", 0) != 1
        || !int64Inputs.contains(column.getInput(0))) {
      return null;
    }
    long[] k = longs(column.getInput(1), producers, inits);
    if (k == null || k.length != 1 || !isScalar(column.getInput(1), producers, inits)) {
      return null;
    }
    return new Lookup(
        column.getInput(0), k[0], gather.getInput(0), table.getDims(0), table.getDims(1));
  }

  private static boolean isLongs(
      String name, long[] expected, Map<String, NodeProto> producers, Map<String, TensorProto> i) {
    long[] v = longs(name, producers, i);
    return v != null && java.util.Arrays.equals(v, expected);
  }

  private static TensorProto constant(
      String name, Map<String, NodeProto> producers, Map<String, TensorProto> inits) {
    if (inits.containsKey(name)) {
      return inits.get(name);
    }
    NodeProto p = producers.get(name);
    if (p == null || !p.getOpType().equals("Constant")) {
      return null;
    }
    for (AttributeProto a : p.getAttributeList()) {
      if (a.getName().equals("value")) {
        return a.getT();
      }
    }
    return null;
  }

  private static long[] longs(
      String name, Map<String, NodeProto> producers, Map<String, TensorProto> inits) {
    TensorProto t = constant(name, producers, inits);
    return t == null || TensorProtos.type(t) != DataType.INT64 ? null : TensorProtos.toLongs(t);
  }

  private static boolean isScalar(
      String name, Map<String, NodeProto> producers, Map<String, TensorProto> inits) {
    TensorProto t = constant(name, producers, inits);
    return t != null && t.getDimsCount() == 0;
  }

  /** Drops nodes whose outputs nothing reads, then initializers nothing reads. */
  static OnnxModel withoutDeadCode(OnnxModel model) {
    List<NodeProto> nodes = new ArrayList<>(model.nodes());
    Set<String> outputs = new HashSet<>();
    model.graph().getOutputList().forEach(v -> outputs.add(v.getName()));
    boolean changed = true;
    Set<String> used = new HashSet<>();
    while (changed) {
      used.clear();
      used.addAll(outputs);
      nodes.forEach(n -> used.addAll(n.getInputList()));
      changed = nodes.removeIf(n -> n.getOutputList().stream().noneMatch(used::contains));
    }
    Map<String, Boolean> keep = new HashMap<>();
    List<TensorProto> inits = new ArrayList<>();
    for (TensorProto t : model.graph().getInitializerList()) {
      if (used.contains(t.getName()) && keep.putIfAbsent(t.getName(), true) == null) {
        inits.add(t);
      }
    }
    return model.withGraph(
        model.graph().toBuilder()
            .clearNode()
            .addAllNode(nodes)
            .clearInitializer()
            .addAllInitializer(inits)
            .build());
  }
}
