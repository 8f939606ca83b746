package ai.distill.optimizer.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A small fluent writer for ONNX graphs, mostly for tests and tiny demo models. Opset 17 of the
 * default domain unless {@link #opset(long)} says otherwise; {@code -1} in a shape is a dynamic
 * dimension (the first one is named "batch"). Not thread-safe.
 *
 * <pre>{@code
 * byte[] model = GraphBuilder.create("mlp")
 *     .input("x", DataType.FLOAT, -1, 4)
 *     .initializer("w", new float[] {...}, 4, 1).initializer("b", new float[] {0f}, 1)
 *     .gemm("x", "w", "b", "logit", false)
 *     .op("Sigmoid", "logit", "prob")
 *     .output("prob", DataType.FLOAT, -1, 1)
 *     .toBytes();
 * }</pre>
 */
public final class GraphBuilder {

  /** The default opset of the ONNX domain. */
  public static final long DEFAULT_OPSET = 17;

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final List<StringStringEntryProto> metadata = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private long opset = DEFAULT_OPSET;
  private boolean msDomain;
  private int nodeCounter;

  private GraphBuilder(String name) {
    graph.setName(name);
  }

  public static GraphBuilder create(String graphName) {
    if (graphName == null || graphName.isBlank()) {
      throw new IllegalArgumentException("graphName : '" + graphName + "' (expected: non-blank)");
    }
    return new GraphBuilder(graphName);
  }

  public GraphBuilder opset(long version) {
    if (version < 7) {
      throw new IllegalArgumentException("opset : " + version + " (expected: >= 7)");
    }
    this.opset = version;
    return this;
  }

  /** Also import the com.microsoft domain (version 1), for contrib ops. */
  public GraphBuilder microsoftDomain() {
    this.msDomain = true;
    return this;
  }

  public GraphBuilder metadata(String key, String value) {
    metadata.add(StringStringEntryProto.newBuilder().setKey(key).setValue(value).build());
    return this;
  }

  public GraphBuilder input(String name, DataType type, long... shape) {
    unique(name);
    graph.addInput(OnnxModel.valueInfo(name, type, shape));
    return this;
  }

  public GraphBuilder output(String name, DataType type, long... shape) {
    graph.addOutput(OnnxModel.valueInfo(name, type, shape));
    return this;
  }

  /** Declares the type and shape of an intermediate tensor (a value info). */
  public GraphBuilder valueInfo(String name, DataType type, long... shape) {
    graph.addValueInfo(OnnxModel.valueInfo(name, type, shape));
    return this;
  }

  public GraphBuilder initializer(TensorProto tensor) {
    unique(tensor.getName());
    graph.addInitializer(tensor);
    return this;
  }

  public GraphBuilder initializer(String name, float[] values, long... dims) {
    return initializer(TensorProtos.floats(name, values, dims));
  }

  public GraphBuilder initializerInt64(String name, long[] values, long... dims) {
    return initializer(TensorProtos.longs(name, values, dims));
  }

  public GraphBuilder initializerInt32(String name, int[] values, long... dims) {
    return initializer(TensorProtos.ints(name, values, dims));
  }

  public GraphBuilder initializerInt8(String name, byte[] values, long... dims) {
    return initializer(TensorProtos.int8(name, values, dims));
  }

  public GraphBuilder initializerUint8(String name, byte[] values, long... dims) {
    return initializer(TensorProtos.uint8(name, values, dims));
  }

  /** A node of the default domain; attributes via {@link #attr(String, Object)}. */
  public GraphBuilder node(
      String opType, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
    return node("", opType, inputs, outputs, attrs);
  }

  public GraphBuilder node(
      String domain,
      String opType,
      List<String> inputs,
      List<String> outputs,
      AttributeProto... attrs) {
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException(opType + ": no outputs (expected: at least one)");
    }
    NodeProto.Builder n =
        NodeProto.newBuilder()
            .setOpType(opType)
            .setDomain(domain)
            .setName(opType.toLowerCase() + "_" + nodeCounter++)
            .addAllInput(inputs)
            .addAllOutput(outputs);
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    for (String o : outputs) {
      unique(o);
    }
    graph.addNode(n);
    return this;
  }

  /** A single-input, single-output node such as Relu, Sigmoid, Identity, Tanh. */
  public GraphBuilder op(String opType, String input, String output, AttributeProto... attrs) {
    return node(opType, List.of(input), List.of(output), attrs);
  }

  /** Gemm: out = a · b(ᵀ) + c. */
  public GraphBuilder gemm(String a, String b, String c, String out, boolean transB) {
    List<String> ins = c == null ? List.of(a, b) : List.of(a, b, c);
    return transB
        ? node("Gemm", ins, List.of(out), attr("transB", 1L))
        : node("Gemm", ins, List.of(out));
  }

  public GraphBuilder matmul(String a, String b, String out) {
    return node("MatMul", List.of(a, b), List.of(out));
  }

  public GraphBuilder add(String a, String b, String out) {
    return node("Add", List.of(a, b), List.of(out));
  }

  public GraphBuilder mul(String a, String b, String out) {
    return node("Mul", List.of(a, b), List.of(out));
  }

  public GraphBuilder gather(String data, String indices, String out, long axis) {
    return node("Gather", List.of(data, indices), List.of(out), attr("axis", axis));
  }

  public GraphBuilder concat(String out, long axis, String... inputs) {
    return node("Concat", List.of(inputs), List.of(out), attr("axis", axis));
  }

  public GraphBuilder flatten(String in, String out, long axis) {
    return node("Flatten", List.of(in), List.of(out), attr("axis", axis));
  }

  /** Reshape to a constant shape (added as an int64 initializer named {@code out + "_shape"}). */
  public GraphBuilder reshape(String in, String out, long... shape) {
    initializerInt64(out + "_shape", shape, shape.length);
    return node("Reshape", List.of(in, out + "_shape"), List.of(out));
  }

  public GraphBuilder cast(String in, String out, DataType to) {
    return node("Cast", List.of(in), List.of(out), attr("to", (long) to.getNumber()));
  }

  /**
   * An attribute from a Java value: Long/Integer, Float/Double, String, long[], int[], float[],
   * TensorProto.
   */
  public static AttributeProto attr(String name, Object value) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
    if (value instanceof Long || value instanceof Integer) {
      a.setType(AttributeProto.AttributeType.INT).setI(((Number) value).longValue());
    } else if (value instanceof Float || value instanceof Double) {
      a.setType(AttributeProto.AttributeType.FLOAT).setF(((Number) value).floatValue());
    } else if (value instanceof String s) {
      a.setType(AttributeProto.AttributeType.STRING)
          .setS(com.google.protobuf.ByteString.copyFromUtf8(s));
    } else if (value instanceof long[] l) {
      a.setType(AttributeProto.AttributeType.INTS);
      for (long v : l) {
        a.addInts(v);
      }
    } else if (value instanceof int[] l) {
      a.setType(AttributeProto.AttributeType.INTS);
      for (int v : l) {
        a.addInts(v);
      }
    } else if (value instanceof float[] f) {
      a.setType(AttributeProto.AttributeType.FLOATS);
      for (float v : f) {
        a.addFloats(v);
      }
    } else if (value instanceof TensorProto t) {
      a.setType(AttributeProto.AttributeType.TENSOR).setT(t);
    } else {
      throw new IllegalArgumentException(
          "attribute "
              + name
              + " : "
              + value
              + " (expected: Long, Integer, Float, Double, String, long[], int[], float[] or TensorProto)");
    }
    return a.build();
  }

  private void unique(String name) {
    if (!names.add(name)) {
      throw new IllegalArgumentException(
          "tensor name '" + name + "' is defined twice (expected: unique names)");
    }
  }

  public ModelProto toProto() {
    ModelProto.Builder m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("distill")
            .setProducerVersion("0.1")
            .setGraph(graph.build())
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
            .addAllMetadataProps(metadata);
    if (msDomain) {
      m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1));
    }
    return m.build();
  }

  public OnnxModel build() {
    return OnnxModel.of(toProto());
  }

  public byte[] toBytes() {
    return toProto().toByteArray();
  }

  public void save(Path file) throws IOException {
    build().save(file);
  }
}
