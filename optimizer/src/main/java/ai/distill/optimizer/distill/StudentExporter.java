package ai.distill.optimizer.distill;

import static ai.distill.optimizer.onnx.TensorProtos.floats;
import static ai.distill.optimizer.onnx.TensorProtos.longs;

import ai.distill.optimizer.train.StudentNet;
import ai.onnx.proto.OnnxMl;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a trained {@link StudentNet} as an ONNX model with exactly the teacher's input and output
 * value infos (names, types, batch dimension). Graph: per INT64 input, BitwiseAnd (hash ids into
 * each column's power-of-two table; far cheaper than Mod in ORT) + Add (column offsets) + one
 * Gather on the stacked tables + Reshape; per FLOAT input, Sub/Mul standardisation; Concat; Gemm
 * (transB=1) + Relu chain; Sigmoid; Reshape to [N] for a rank-1 teacher output. Stateless.
 */
public final class StudentExporter {

  /** ONNX opset of exported students (BitwiseAnd needs 18; per-channel QDQ 13). */
  public static final int OPSET = 18;

  private StudentExporter() {}

  /** The student as a serialised ONNX model. */
  public static byte[] export(StudentNet net, TeacherSignature signature, String docString) {
    return toProto(net, signature, docString).toByteArray();
  }

  /** The student as an ONNX model proto. */
  public static OnnxMl.ModelProto toProto(
      StudentNet net, TeacherSignature signature, String docString) {
    if (net.columns() != signature.categoricalColumns()
        || net.denseWidth() != signature.denseWidth()) {
      throw new IllegalArgumentException(
          "student has "
              + net.columns()
              + " categorical and "
              + net.denseWidth()
              + " dense features, the signature "
              + signature.categoricalColumns()
              + " and "
              + signature.denseWidth());
    }
    OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("distill_student");
    for (TeacherSignature.Input in : signature.inputs()) {
      g.addInput(in.info());
    }
    g.addOutput(signature.outputInfo());
    int d = net.embeddingDim();
    int[] vocabulary = net.vocabulary();
    int[] offsets = net.tableOffsets();
    float[] shift = net.denseShift();
    float[] scale = net.denseScale();
    List<String> embedded = new ArrayList<>();
    List<String> dense = new ArrayList<>();
    if (net.columns() > 0) {
      int tableRows = net.embeddingTables().length / d;
      g.addInitializer(floats("embedding_tables", net.embeddingTables(), tableRows, d));
    }
    int column = 0;
    int feature = 0;
    for (TeacherSignature.Input in : signature.inputs()) {
      String name = in.name();
      String x = name;
      int w = in.width();
      String p = sanitize(name);
      if (in.dims().length != 1) {
        g.addInitializer(longs(p + "_flat_shape", new long[] {-1, w}, 2));
        g.addNode(node("Reshape", p + "_flatten", List.of(name, p + "_flat_shape"), p + "_flat"));
        x = p + "_flat";
      }
      if (in.kind() == TeacherSignature.Kind.CATEGORICAL) {
        long[] v = new long[w];
        long[] o = new long[w];
        for (int j = 0; j < w; j++) {
          v[j] = vocabulary[column + j] - 1;
          o[j] = offsets[column + j];
        }
        g.addInitializer(longs(p + "_id_mask", v, w));
        g.addInitializer(longs(p + "_table_offset", o, w));
        g.addInitializer(longs(p + "_embedded_shape", new long[] {-1, (long) w * d}, 2));
        g.addNode(node("BitwiseAnd", p + "_hash", List.of(x, p + "_id_mask"), p + "_bucket"));
        g.addNode(
            node("Add", p + "_offset", List.of(p + "_bucket", p + "_table_offset"), p + "_row"));
        g.addNode(
            node("Gather", p + "_gather", List.of("embedding_tables", p + "_row"), p + "_gathered")
                .addAttribute(intAttribute("axis", 0)));
        g.addNode(
            node(
                "Reshape",
                p + "_embed",
                List.of(p + "_gathered", p + "_embedded_shape"),
                p + "_embedded"));
        embedded.add(p + "_embedded");
        column += w;
      } else {
        float[] s = new float[w];
        float[] c = new float[w];
        System.arraycopy(shift, feature, s, 0, w);
        System.arraycopy(scale, feature, c, 0, w);
        g.addInitializer(floats(p + "_shift", s, w));
        g.addInitializer(floats(p + "_scale", c, w));
        g.addNode(node("Sub", p + "_center", List.of(x, p + "_shift"), p + "_centered"));
        g.addNode(
            node(
                "Mul",
                p + "_standardize",
                List.of(p + "_centered", p + "_scale"),
                p + "_standard"));
        dense.add(p + "_standard");
        feature += w;
      }
    }
    List<String> pieces = new ArrayList<>(embedded);
    pieces.addAll(dense);
    String h = pieces.get(0);
    if (pieces.size() > 1) {
      g.addNode(
          node("Concat", "concat_features", pieces, "features")
              .addAttribute(intAttribute("axis", 1)));
      h = "features";
    }
    int[] widths = net.widths();
    for (int l = 0; l < net.layers(); l++) {
      int in = widths[l];
      int out = widths[l + 1];
      float[] w = net.weights(l);
      float[] wt = new float[w.length];
      for (int i = 0; i < in; i++) {
        for (int o = 0; o < out; o++) {
          wt[o * in + i] = w[i * out + o];
        }
      }
      g.addInitializer(floats("dense" + l + "_weight", wt, out, in));
      g.addInitializer(floats("dense" + l + "_bias", net.bias(l), out));
      boolean last = l == net.layers() - 1;
      String y = last ? "logit" : "dense" + l + "_out";
      g.addNode(
          node("Gemm", "dense" + l, List.of(h, "dense" + l + "_weight", "dense" + l + "_bias"), y)
              .addAttribute(intAttribute("transB", 1)));
      h = y;
      if (!last) {
        g.addNode(node("Relu", "relu" + l, List.of(h), "relu" + l + "_out"));
        h = "relu" + l + "_out";
      }
    }
    String output = signature.outputName();
    if (signature.outputRank() == 1) {
      g.addNode(node("Sigmoid", "sigmoid", List.of(h), "prob_column"));
      g.addInitializer(longs("output_shape", new long[] {-1}, 1));
      g.addNode(node("Reshape", "to_vector", List.of("prob_column", "output_shape"), output));
    } else {
      g.addNode(node("Sigmoid", "sigmoid", List.of(h), output));
    }
    return OnnxMl.ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("distill")
        .setProducerVersion("0.1")
        .setDocString(docString == null ? "" : docString)
        .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(g)
        .build();
  }

  private static String sanitize(String name) {
    return "in_" + name.replaceAll("[^A-Za-z0-9_]", "_");
  }

  private static OnnxMl.NodeProto.Builder node(
      String op, String name, List<String> inputs, String output) {
    return OnnxMl.NodeProto.newBuilder()
        .setOpType(op)
        .setName(name)
        .addAllInput(inputs)
        .addOutput(output);
  }

  private static OnnxMl.AttributeProto intAttribute(String name, long value) {
    return OnnxMl.AttributeProto.newBuilder()
        .setName(name)
        .setType(OnnxMl.AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }
}
