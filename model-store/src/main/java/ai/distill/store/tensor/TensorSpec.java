package ai.distill.store.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a model's input or output signature: name, datatype and shape, where -1 marks a
 * dynamic dimension (dimension 0 is the batch dimension when it is dynamic). The one signature
 * record of the project: the optimizer reads it from a graph, the gateway from a session and serves
 * it as OIP metadata, the load generator parses it back. Immutable.
 */
public record TensorSpec(String name, Datatype datatype, long[] shape) {

  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(datatype, "datatype");
    shape = shape.clone();
    for (long d : shape) {
      if (d < -1) {
        throw new IllegalArgumentException(
            "shape : " + Arrays.toString(shape) + " (expected: dimensions >= -1)");
      }
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The rank, {@code shape().length}. */
  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}, -1 when dynamic. */
  public long dim(int i) {
    return shape[i];
  }

  /** True when dimension 0 exists and is dynamic, i.e. requests may be stacked along it. */
  public boolean batched() {
    return shape.length > 0 && shape[0] == -1;
  }

  /** True when a tensor of this shape fits: same rank, equal fixed dimensions. */
  public boolean accepts(long[] actual) {
    if (actual.length != shape.length) return false;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] != -1 && shape[i] != actual[i]) return false;
    }
    return true;
  }

  /**
   * Elements of one row: the product of the shape without its first (batch) dimension, -1 if any of
   * those is dynamic.
   */
  public long elementsPerRow() {
    long n = 1;
    for (int i = 1; i < shape.length; i++) {
      if (shape[i] < 0) {
        return -1;
      }
      n *= shape[i];
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec s
        && name.equals(s.name)
        && datatype == s.datatype
        && Arrays.equals(shape, s.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, datatype, Arrays.hashCode(shape));
  }

  /** {@code 'dense' FP32 [-1, 13]}. */
  @Override
  public String toString() {
    return "'" + name + "' " + datatype + " " + Arrays.toString(shape);
  }
}
