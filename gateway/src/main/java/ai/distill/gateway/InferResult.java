package ai.distill.gateway;

import ai.distill.gateway.tensor.Tensor;
import java.util.List;

/**
 * What one inference produced: the response {@code id} (the request's, or a generated one), the
 * model version that served it, its output tensors (only those requested) and the time from the
 * decoded request to the outputs. Immutable; the tensors must not be modified.
 */
public record InferResult(
    String id,
    String model,
    long version,
    String variant,
    List<Tensor> outputs,
    long latencyNanos) {

  public InferResult {
    outputs = List.copyOf(outputs);
  }
}
