package ai.distill.optimizer.quant;

import ai.distill.optimizer.drift.InputKind;
import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@link ReferenceSketch} of the rows an INT8 model was calibrated on, for its manifest ({@code
 * metrics[reference_sketch]}): later, captured rows are compared with it (PSI per input column)
 * without the calibration rows themselves. Input kinds come from the source model's signature:
 * FLOAT, DOUBLE and FLOAT16 inputs are summarized as floats, INT64 and INT32 as ids; inputs of
 * other types are left out. Stateless.
 */
public final class CalibrationSketch {

  private CalibrationSketch() {}

  /**
   * The sketchable inputs of {@code model}, name → kind, in graph order (initializers excluded).
   */
  public static Map<String, InputKind> kinds(OnnxModel model) {
    OnnxMl.GraphProto g = model.graph();
    Set<String> initializers = new HashSet<>();
    g.getInitializerList().forEach(t -> initializers.add(t.getName()));
    Map<String, InputKind> kinds = new LinkedHashMap<>();
    for (OnnxMl.ValueInfoProto vi : g.getInputList()) {
      if (initializers.contains(vi.getName()) || !vi.getType().hasTensorType()) {
        continue;
      }
      DataType t = DataType.forNumber(vi.getType().getTensorType().getElemType());
      InputKind kind =
          t == null
              ? null
              : switch (t) {
                case FLOAT, DOUBLE, FLOAT16 -> InputKind.FLOAT;
                case INT64, INT32 -> InputKind.INT64;
                default -> null;
              };
      if (kind != null) {
        kinds.put(vi.getName(), kind);
      }
    }
    return kinds;
  }

  /**
   * The sketch of {@code rows} over {@code model}'s sketchable inputs; empty without rows or such
   * inputs.
   */
  public static Optional<ReferenceSketch> of(OnnxModel model, RowTable rows) {
    Map<String, InputKind> kinds = kinds(model);
    if (kinds.isEmpty() || rows.rows() == 0) {
      return Optional.empty();
    }
    ReferenceSketch.Builder b = ReferenceSketch.builder(kinds);
    for (int r = 0; r < rows.rows(); r++) {
      b.add(row(rows, r, kinds.keySet()));
    }
    return Optional.of(b.build());
  }

  /** Row {@code r} of {@code table} as a {@link Row} holding the named inputs. */
  static Row row(RowTable table, int r, Set<String> names) {
    Map<String, RowTensor> inputs = new LinkedHashMap<>();
    for (int k = 0; k < table.columns().size(); k++) {
      RowTable.Column c = table.columns().get(k);
      if (!names.contains(c.name())) {
        continue;
      }
      int w = c.width();
      double[] v = new double[w];
      Object src = table.values(k);
      for (int j = 0; j < w; j++) {
        int i = r * w + j;
        v[j] =
            src instanceof float[] f ? f[i] : src instanceof long[] l ? l[i] : ((double[]) src)[i];
      }
      inputs.put(c.name(), new RowTensor(c.dims(), v));
    }
    byte label = table.labels()[r];
    return new Row(table.line(r), inputs, label < 0 ? null : (int) label, null);
  }
}
