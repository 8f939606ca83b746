package ai.distill.gateway.experiment;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.Future;
import java.util.List;

/**
 * How the experiment engine reaches models: run a request on a model (optionally a pinned version),
 * read a loaded model's signature, and tell whether a name is a model. {@link RegistryInvoker} is
 * the production implementation over the gateway's {@code ModelRegistry}; tests substitute stubs.
 */
public interface VariantInvoker {

  /**
   * What a model returned, which version served it, and what the model cost the request (queue wait
   * + batch compute, nanoseconds).
   */
  record Served(List<Tensor> outputs, long version, long costNanos) {
    public Served(List<Tensor> outputs, long version) {
      this(outputs, version, 0);
    }
  }

  /**
   * A model's inputs and outputs as the engine compares them (equal signatures = interchangeable).
   */
  record Signature(List<TensorSpec> inputs, List<TensorSpec> outputs) {}

  /**
   * Runs {@code request} on {@code model} ({@code version} null: the serving version). Never
   * throws.
   */
  Future<Served> infer(String model, Long version, InferRequest request);

  /**
   * The signature of the loaded model (version null: the serving version), or null when not loaded.
   */
  Signature signature(String model, Long version);

  /** True when {@code name} is a model known to the gateway or the store (loaded or not). */
  boolean isModel(String name);
}
