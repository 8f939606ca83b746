package ai.distill.optimizer.distill;

import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.train.TrainingSet;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxJavaType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The inputs and output of a teacher that a student can mirror: FLOAT and INT64 inputs with a batch
 * dimension first and fixed feature dimensions, and exactly one FLOAT probability output of shape
 * [N] or [N, 1]. The original ONNX value infos are kept so the student's graph declares exactly the
 * same names, types and dimensions. Immutable.
 */
public final class TeacherSignature {

  /** How the student uses an input. */
  public enum Kind {
    DENSE,
    CATEGORICAL
  }

  /**
   * One teacher input.
   *
   * @param name the ONNX input name
   * @param kind FLOAT inputs are concatenated, INT64 inputs embedded per element
   * @param dims the dimensions after the batch dimension
   * @param width product of dims (values per row)
   * @param info the teacher's value info, copied verbatim into the student
   */
  public record Input(String name, Kind kind, int[] dims, int width, OnnxMl.ValueInfoProto info) {
    public Input {
      dims = dims.clone();
    }

    @Override
    public int[] dims() {
      return dims.clone();
    }
  }

  private final List<Input> inputs;
  private final OnnxMl.ValueInfoProto output;
  private final int outputRank;

  private TeacherSignature(List<Input> inputs, OnnxMl.ValueInfoProto output, int outputRank) {
    this.inputs = List.copyOf(inputs);
    this.output = output;
    this.outputRank = outputRank;
  }

  /**
   * Reads and checks a teacher's signature; throws {@link UnsupportedTeacherException} with the
   * reason.
   */
  public static TeacherSignature of(OnnxMl.ModelProto model) {
    OnnxMl.GraphProto g = model.getGraph();
    Set<String> initializers = new HashSet<>();
    for (OnnxMl.TensorProto t : g.getInitializerList()) {
      initializers.add(t.getName());
    }
    List<OnnxMl.ValueInfoProto> inputs = new ArrayList<>();
    for (OnnxMl.ValueInfoProto vi : g.getInputList()) {
      if (!initializers.contains(vi.getName())) {
        inputs.add(vi);
      }
    }
    return of(inputs, g.getOutputList());
  }

  /** Checks a signature given as graph inputs (initializers excluded) and outputs. */
  public static TeacherSignature of(
      List<OnnxMl.ValueInfoProto> graphInputs, List<OnnxMl.ValueInfoProto> graphOutputs) {
    List<Input> inputs = new ArrayList<>();
    for (OnnxMl.ValueInfoProto vi : graphInputs) {
      inputs.add(input(vi));
    }
    if (inputs.isEmpty()) {
      throw new UnsupportedTeacherException(
          "the teacher has no inputs; a student needs FLOAT or INT64 inputs");
    }
    if (graphOutputs.size() != 1) {
      List<String> names = new ArrayList<>();
      graphOutputs.forEach(o -> names.add(o.getName()));
      throw new UnsupportedTeacherException(
          "the teacher has "
              + graphOutputs.size()
              + " outputs "
              + names
              + "; distillation needs exactly one probability output (FLOAT [N] or [N, 1])");
    }
    OnnxMl.ValueInfoProto out = graphOutputs.get(0);
    String where = "the teacher's output '" + out.getName() + "'";
    if (!out.getType().hasTensorType()) {
      throw new UnsupportedTeacherException(
          where + " is not a tensor; distillation needs one FLOAT probability output");
    }
    OnnxMl.TypeProto.Tensor tt = out.getType().getTensorType();
    if (tt.getElemType() != OnnxMl.TensorProto.DataType.FLOAT.getNumber()) {
      throw new UnsupportedTeacherException(
          where
              + " is "
              + typeName(tt.getElemType())
              + "; distillation needs a FLOAT probability output");
    }
    int rank = tt.hasShape() ? tt.getShape().getDimCount() : -1;
    boolean ok = rank == 1 || rank == 2 && fixed(tt.getShape().getDim(1)) == 1;
    if (!ok) {
      throw new UnsupportedTeacherException(
          where
              + " has shape "
              + shape(tt)
              + "; distillation needs one probability per row: [N] or [N, 1]");
    }
    return new TeacherSignature(inputs, out, rank);
  }

  private static Input input(OnnxMl.ValueInfoProto vi) {
    String where = "the teacher's input '" + vi.getName() + "'";
    if (!vi.getType().hasTensorType()) {
      throw new UnsupportedTeacherException(
          where + " is not a tensor; a student mirrors FLOAT and INT64 tensors only");
    }
    OnnxMl.TypeProto.Tensor tt = vi.getType().getTensorType();
    Kind kind;
    if (tt.getElemType() == OnnxMl.TensorProto.DataType.FLOAT.getNumber()) {
      kind = Kind.DENSE;
    } else if (tt.getElemType() == OnnxMl.TensorProto.DataType.INT64.getNumber()) {
      kind = Kind.CATEGORICAL;
    } else {
      throw new UnsupportedTeacherException(
          where
              + " is "
              + typeName(tt.getElemType())
              + "; a student mirrors FLOAT inputs (concatenated) and INT64 inputs (embedded) only");
    }
    if (!tt.hasShape() || tt.getShape().getDimCount() < 1) {
      throw new UnsupportedTeacherException(
          where + " has no shape; a student needs [batch, features...]");
    }
    int rank = tt.getShape().getDimCount();
    int[] dims = new int[rank - 1];
    long width = 1;
    for (int i = 1; i < rank; i++) {
      long d = fixed(tt.getShape().getDim(i));
      if (d <= 0) {
        throw new UnsupportedTeacherException(
            where
                + " has shape "
                + shape(tt)
                + " with a dynamic dimension "
                + i
                + "; a student needs fixed feature dimensions after the batch dimension");
      }
      dims[i - 1] = (int) d;
      width *= d;
    }
    if (width > 1 << 20) {
      throw new UnsupportedTeacherException(
          where + " has " + width + " values per row (expected: at most 2^20)");
    }
    return new Input(vi.getName(), kind, dims, (int) width, vi);
  }

  private static long fixed(OnnxMl.TensorShapeProto.Dimension d) {
    return d.hasDimValue() ? d.getDimValue() : -1;
  }

  private static String shape(OnnxMl.TypeProto.Tensor tt) {
    if (!tt.hasShape()) {
      return "unknown";
    }
    List<String> dims = new ArrayList<>();
    for (OnnxMl.TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
      dims.add(
          d.hasDimValue()
              ? Long.toString(d.getDimValue())
              : d.getDimParam().isEmpty() ? "?" : d.getDimParam());
    }
    return dims.toString();
  }

  static String typeName(int elemType) {
    OnnxMl.TensorProto.DataType t = OnnxMl.TensorProto.DataType.forNumber(elemType);
    return t == null ? "type " + elemType : t.name();
  }

  public List<Input> inputs() {
    return inputs;
  }

  /** The input named {@code name}, or null. */
  public Input input(String name) {
    for (Input i : inputs) {
      if (i.name().equals(name)) {
        return i;
      }
    }
    return null;
  }

  /** The teacher's inputs as table columns (FLOAT or INT64, fixed dims), in input order. */
  public List<RowTable.Column> columns() {
    List<RowTable.Column> out = new ArrayList<>();
    for (Input in : inputs) {
      out.add(
          new RowTable.Column(
              in.name(),
              in.kind() == Kind.DENSE ? OnnxJavaType.FLOAT : OnnxJavaType.INT64,
              in.dims()));
    }
    return out;
  }

  /**
   * The student's view of a table with this signature's {@link #columns()}: INT64 inputs' values as
   * categorical columns, FLOAT inputs' as dense features, each in input order.
   */
  public TrainingSet trainingSet(RowTable table) {
    int rows = table.rows();
    int columns = categoricalColumns();
    int dense = denseWidth();
    long[] ids = new long[rows * columns];
    float[] d = new float[rows * dense];
    int idOff = 0;
    int denseOff = 0;
    for (Input in : inputs) {
      int k = table.indexOf(in.name());
      if (k < 0 || !table.columns().get(k).equals(columns().get(inputs.indexOf(in)))) {
        throw new IllegalArgumentException(
            "table column for '"
                + in.name()
                + "' : "
                + (k < 0 ? "missing" : table.columns().get(k))
                + " (expected: "
                + columns().get(inputs.indexOf(in))
                + ")");
      }
      Object values = table.values(k);
      int w = in.width();
      for (int r = 0; r < rows; r++) {
        if (in.kind() == Kind.CATEGORICAL) {
          System.arraycopy(values, r * w, ids, r * columns + idOff, w);
        } else {
          System.arraycopy(values, r * w, d, r * dense + denseOff, w);
        }
      }
      if (in.kind() == Kind.CATEGORICAL) {
        idOff += w;
      } else {
        denseOff += w;
      }
    }
    return new TrainingSet(rows, columns, ids, dense, d);
  }

  /** Categorical columns over all INT64 inputs, in input order. */
  public int categoricalColumns() {
    return inputs.stream().filter(i -> i.kind() == Kind.CATEGORICAL).mapToInt(Input::width).sum();
  }

  /** Dense features over all FLOAT inputs, in input order. */
  public int denseWidth() {
    return inputs.stream().filter(i -> i.kind() == Kind.DENSE).mapToInt(Input::width).sum();
  }

  public String outputName() {
    return output.getName();
  }

  /** The teacher's output value info, copied verbatim into the student. */
  public OnnxMl.ValueInfoProto outputInfo() {
    return output;
  }

  /** 1 for [N], 2 for [N, 1]. */
  public int outputRank() {
    return outputRank;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("(");
    for (Input i : inputs) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(i.name())
          .append(' ')
          .append(i.kind() == Kind.DENSE ? "FLOAT" : "INT64")
          .append(" [N, ")
          .append(Arrays.toString(i.dims()).replace("[", "").replace("]", ""))
          .append(']');
    }
    return sb.append(") -> ")
        .append(output.getName())
        .append(outputRank == 1 ? " FLOAT [N]" : " FLOAT [N, 1]")
        .toString();
  }
}
