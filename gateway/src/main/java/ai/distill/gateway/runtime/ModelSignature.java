package ai.distill.gateway.runtime;

import ai.distill.gateway.tensor.OrtTypes;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model's inputs and outputs as read from its ORT session, in the session's order; -1 marks
 * dynamic dimensions. Nothing in the gateway assumes input or output names. Immutable.
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /**
   * Reads the signature of {@code session}.
   *
   * @throws ModelLoadException when an input or output is not a tensor of a supported datatype
   */
  public static ModelSignature of(OrtSession session, String model) throws OrtException {
    return new ModelSignature(
        specs(session.getInputInfo(), model, "input"),
        specs(session.getOutputInfo(), model, "output"));
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos, String model, String kind) {
    List<TensorSpec> specs = new ArrayList<>(infos.size());
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo info)) {
        throw new ModelLoadException(
            model
                + ": "
                + kind
                + " '"
                + node.getName()
                + "' is "
                + node.getInfo()
                + " (expected: a tensor; sequences and maps are not served)");
      }
      try {
        specs.add(OrtTypes.spec(node.getName(), info));
      } catch (IllegalArgumentException e) {
        throw new ModelLoadException(
            model
                + ": "
                + kind
                + " '"
                + node.getName()
                + "' has an unsupported type: "
                + e.getMessage());
      }
    }
    return specs;
  }

  /**
   * True when every input has a dynamic dimension 0, so that requests can be stacked along it.
   * Models with a fixed batch dimension are served one request per run.
   */
  public boolean batchable() {
    for (TensorSpec s : inputs) {
      if (!s.batched()) {
        return false;
      }
    }
    return !inputs.isEmpty();
  }

  /** The input named {@code name}, or null. */
  public TensorSpec input(String name) {
    for (TensorSpec s : inputs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
