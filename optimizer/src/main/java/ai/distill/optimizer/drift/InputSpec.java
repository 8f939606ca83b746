package ai.distill.optimizer.drift;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import java.util.List;
import java.util.Objects;

/**
 * One model input as a sketch sees it: its name, kind and number of elements per row (the row
 * tensor flattened in row-major order, element {@code i} being column {@code <name>[i]}).
 */
public record InputSpec(String name, InputKind kind, int size) {

  public InputSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    if (size < 1) {
      throw new IllegalArgumentException(
          "size of input " + name + " : " + size + " (expected: >= 1)");
    }
  }

  /** The column name of element {@code index}: {@code <name>[<index>]}. */
  public String column(int index) {
    return name + "[" + index + "]";
  }

  /**
   * Why {@code row} does not fit {@code inputs} (a missing input, another element count, a
   * non-integer id), or null when it fits. Inputs the row has beyond these are ignored.
   */
  static String mismatch(List<InputSpec> inputs, Row row) {
    for (InputSpec in : inputs) {
      RowTensor t = row.inputs().get(in.name);
      if (t == null) {
        return "input " + in.name + " missing (row has: " + row.inputs().keySet() + ")";
      }
      if (t.size() != in.size) {
        return "input " + in.name + " : " + t.size() + " elements (expected: " + in.size + ")";
      }
      if (in.kind == InputKind.INT64) {
        double[] v = t.values();
        for (int i = 0; i < v.length; i++) {
          if (v[i] != Math.rint(v[i]) || Double.isInfinite(v[i])) {
            return "input " + in.name + "[" + i + "] : " + v[i] + " (expected: an integer id)";
          }
        }
      }
    }
    return null;
  }
}
