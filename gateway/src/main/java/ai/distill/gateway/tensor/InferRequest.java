package ai.distill.gateway.tensor;

import java.util.List;
import java.util.Map;

/**
 * A decoded, validated inference request.
 *
 * @param id the request's {@code id}, or null when absent
 * @param inputs the input tensors in request order; names are unique and all model inputs are
 *     present
 * @param outputs the requested outputs in request order; empty means every model output, each
 *     binary iff {@code binaryDataOutput}
 * @param binaryDataOutput {@code parameters.binary_data_output}: return outputs as binary unless an
 *     output says otherwise
 * @param parameters request-level parameters (e.g. {@code user_id}) as plain Java values: String,
 *     Long, BigInteger, Double, Boolean, null, List and Map; never null, unmodifiable
 */
public record InferRequest(
    String id,
    List<Tensor> inputs,
    List<RequestedOutput> outputs,
    boolean binaryDataOutput,
    Map<String, Object> parameters) {

  public InferRequest {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    parameters =
        parameters == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
  }

  /** The input with this name, or null. */
  public Tensor input(String name) {
    for (Tensor t : inputs) {
      if (t.name().equals(name)) return t;
    }
    return null;
  }

  /** The batch rows of the request: dimension 0 of its first input (1 for a scalar input). */
  public long rows() {
    return inputs.isEmpty() ? 0 : inputs.get(0).rows();
  }
}
