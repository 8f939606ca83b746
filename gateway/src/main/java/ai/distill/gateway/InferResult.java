package ai.distill.gateway;

import ai.distill.gateway.tensor.Tensor;
import java.util.List;

/**
 * What one inference produced: the response {@code id} (the request's, or a generated one), the
 * model version that served it, its output tensors (only those requested), the time from the
 * decoded request to the outputs, and what the model itself cost it: its queue wait and its batch's
 * compute time (what experiments judge; end-to-end latency is only reported). Immutable; the
 * tensors must not be modified.
 */
public record InferResult(
    String id,
    String model,
    long version,
    String variant,
    List<Tensor> outputs,
    long latencyNanos,
    long queueNanos,
    long computeNanos) {

  public InferResult {
    outputs = List.copyOf(outputs);
  }
}
