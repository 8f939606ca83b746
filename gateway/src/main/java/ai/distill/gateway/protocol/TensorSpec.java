package ai.distill.gateway.protocol;

import ai.onnxruntime.TensorInfo;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a model's input or output signature: name, datatype and shape, where -1 marks a dynamic
 * dimension (dimension 0 is the batch dimension when it is dynamic). Immutable.
 */
public record TensorSpec(String name, Datatype datatype, long[] shape) {

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        shape = shape.clone();
        for (long d : shape) {
            if (d < -1) {
                throw new IllegalArgumentException("shape : " + Arrays.toString(shape) + " (expected: dimensions >= -1)");
            }
        }
    }

    /** A spec from the {@link TensorInfo} ORT reports for a session input or output (symbolic dims become -1). */
    public static TensorSpec fromOnnx(String name, TensorInfo info) {
        long[] shape = info.getShape().clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) shape[i] = -1;
        }
        return new TensorSpec(name, Datatype.fromOnnx(info), shape);
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

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s && name.equals(s.name) && datatype == s.datatype && Arrays.equals(shape, s.shape);
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
