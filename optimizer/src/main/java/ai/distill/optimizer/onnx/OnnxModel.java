package ai.distill.optimizer.onnx;

import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * An immutable ONNX model: load, inspect (inputs, outputs, initializers, nodes), rewrite and save.
 * Rewrites go through {@link #rewrite(UnaryOperator)} on the protobuf builder, so opset imports,
 * metadata, value infos and anything else the model carries are preserved unless the rewrite
 * changes them. Thread-safe (immutable).
 *
 * <pre>{@code
 * OnnxModel m = OnnxModel.load(Path.of("model.onnx"));
 * m.inputs();                       // ['dense' FP32 [-1, 13], 'sparse' INT64 [-1, 26]]
 * OnnxModel copy = m.rewrite(b -> b.setDocString("copy"));
 * copy.save(Path.of("copy.onnx"));
 * }</pre>
 */
public final class OnnxModel {

  private final ModelProto proto;

  private OnnxModel(ModelProto proto) {
    this.proto = proto;
  }

  /** Wraps a model proto after checking that it has a graph and an IR version. */
  public static OnnxModel of(ModelProto proto) {
    validate(proto, "model");
    return new OnnxModel(proto);
  }

  /**
   * Loads a model file; a missing file is an {@link IOException}, a corrupt one an {@link
   * OnnxFormatException}.
   */
  public static OnnxModel load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no such ONNX model file");
    }
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Parses model bytes; corrupt bytes give an {@link OnnxFormatException}. */
  public static OnnxModel fromBytes(byte[] bytes) {
    return parse(bytes, "model bytes");
  }

  private static OnnxModel parse(byte[] bytes, String source) {
    if (bytes.length == 0) {
      throw new OnnxFormatException(source + " is empty (expected: a serialized ONNX ModelProto)");
    }
    ModelProto p;
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setSizeLimit(Integer.MAX_VALUE);
      in.setRecursionLimit(1000);
      p = ModelProto.parseFrom(in);
    } catch (IOException e) {
      throw new OnnxFormatException(
          source
              + " is not a valid ONNX model (protobuf parse failed: "
              + e.getMessage()
              + "); re-export or re-download it",
          e);
    } catch (RuntimeException e) {
      throw new OnnxFormatException(source + " is not a valid ONNX model (" + e + ")", e);
    }
    validate(p, source);
    return new OnnxModel(p);
  }

  private static void validate(ModelProto p, String source) {
    if (p.getIrVersion() <= 0 || !p.hasGraph()) {
      throw new OnnxFormatException(
          source
              + " is not a valid ONNX model (ir_version="
              + p.getIrVersion()
              + ", has graph="
              + p.hasGraph()
              + "; expected both)");
    }
    if (p.getGraph().getNodeCount() == 0 || p.getGraph().getOutputCount() == 0) {
      throw new OnnxFormatException(
          source
              + " is not a usable ONNX model ("
              + p.getGraph().getNodeCount()
              + " nodes, "
              + p.getGraph().getOutputCount()
              + " outputs; expected at least one of each)");
    }
  }

  public ModelProto proto() {
    return proto;
  }

  public GraphProto graph() {
    return proto.getGraph();
  }

  /** Applies a rewrite to a builder copy and returns the new model (this one is unchanged). */
  public OnnxModel rewrite(UnaryOperator<ModelProto.Builder> change) {
    return of(change.apply(proto.toBuilder()).build());
  }

  /** Replaces the graph, keeping everything else. */
  public OnnxModel withGraph(GraphProto graph) {
    return rewrite(b -> b.setGraph(graph));
  }

  /** Graph inputs that are not initializers (older IRs list initializers as inputs too). */
  public List<TensorSpec> inputs() {
    Set<String> inits =
        graph().getInitializerList().stream().map(TensorProto::getName).collect(Collectors.toSet());
    return graph().getInputList().stream()
        .filter(v -> !inits.contains(v.getName()))
        .map(OnnxModel::spec)
        .toList();
  }

  public List<TensorSpec> outputs() {
    return graph().getOutputList().stream().map(OnnxModel::spec).toList();
  }

  public List<NodeProto> nodes() {
    return graph().getNodeList();
  }

  /** Initializers by name, in graph order. */
  public Map<String, TensorProto> initializers() {
    Map<String, TensorProto> m = new LinkedHashMap<>();
    for (TensorProto t : graph().getInitializerList()) {
      m.put(t.getName(), t);
    }
    return m;
  }

  public Optional<TensorProto> initializer(String name) {
    return graph().getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst();
  }

  /** The opset version imported for the default ONNX domain ("" or "ai.onnx"); 0 if absent. */
  public long opsetVersion() {
    for (OperatorSetIdProto o : proto.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        return o.getVersion();
      }
    }
    return 0;
  }

  public Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>();
    for (StringStringEntryProto e : proto.getMetadataPropsList()) {
      m.put(e.getKey(), e.getValue());
    }
    return m;
  }

  /** Returns a copy with the metadata entry set (replacing an existing key). */
  public OnnxModel withMetadata(String key, String value) {
    return rewrite(
        b -> {
          List<StringStringEntryProto> kept = new ArrayList<>();
          for (StringStringEntryProto e : b.getMetadataPropsList()) {
            if (!e.getKey().equals(key)) {
              kept.add(e);
            }
          }
          kept.add(StringStringEntryProto.newBuilder().setKey(key).setValue(value).build());
          return b.clearMetadataProps().addAllMetadataProps(kept);
        });
  }

  /** Nodes that consume each tensor name (a node consuming a tensor twice appears twice). */
  public Map<String, List<NodeProto>> consumers() {
    Map<String, List<NodeProto>> m = new LinkedHashMap<>();
    for (NodeProto n : nodes()) {
      for (String in : n.getInputList()) {
        if (!in.isEmpty()) {
          m.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
      }
    }
    return m;
  }

  /** The node producing each tensor name. */
  public Map<String, NodeProto> producers() {
    Map<String, NodeProto> m = new LinkedHashMap<>();
    for (NodeProto n : nodes()) {
      for (String out : n.getOutputList()) {
        m.put(out, n);
      }
    }
    return m;
  }

  /** Count of nodes per op type, e.g. {@code {Gemm=3, Relu=2}}. */
  public Map<String, Integer> opCounts() {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (NodeProto n : nodes()) {
      m.merge(n.getOpType(), 1, Integer::sum);
    }
    return m;
  }

  public byte[] toBytes() {
    return proto.toByteArray();
  }

  public long sizeBytes() {
    return proto.getSerializedSize();
  }

  /** Writes the model atomically (temp file in the same directory, then a move). */
  public void save(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".onnx-", ".tmp");
    try {
      Files.write(tmp, toBytes());
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A value info for a tensor with the given type and shape ({@code -1} = dynamic, named "batch" if
   * first).
   */
  public static ValueInfoProto valueInfo(String name, DataType type, long... shape) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        s.addDimBuilder().setDimParam(i == 0 ? "batch" : name + "_d" + i);
      } else {
        s.addDimBuilder().setDimValue(shape[i]);
      }
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(s)))
        .build();
  }

  /** A value info with element type only (unknown shape). */
  public static ValueInfoProto valueInfo(String name, DataType type) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber())))
        .build();
  }

  static TensorSpec spec(ValueInfoProto v) {
    TypeProto.Tensor t = v.getType().getTensorType();
    long[] shape = new long[t.getShape().getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      TensorShapeProto.Dimension d = t.getShape().getDim(i);
      shape[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1;
    }
    return new TensorSpec(v.getName(), Datatype.fromOnnxElementType(t.getElemType()), shape);
  }

  @Override
  public String toString() {
    return "OnnxModel["
        + graph().getName()
        + ", opset "
        + opsetVersion()
        + ", "
        + nodes().size()
        + " nodes, "
        + inputs()
        + " -> "
        + outputs()
        + "]";
  }
}
