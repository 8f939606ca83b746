package ai.distill.gateway.experiment;

import ai.distill.gateway.runtime.LoadedModel;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.store.ModelStore;
import io.vertx.core.Future;

/**
 * {@link VariantInvoker} over the gateway's {@link ModelRegistry}, whose {@code infer} holds a
 * reference on the serving version for the duration of the request. Thread-safe.
 */
public final class RegistryInvoker implements VariantInvoker {

  private final ModelRegistry registry;
  private final ModelStore store;

  public RegistryInvoker(ModelRegistry registry, ModelStore store) {
    this.registry = registry;
    this.store = store;
  }

  @Override
  public Future<Served> infer(String model, Long version, InferRequest request) {
    return registry
        .infer(model, version, request)
        .map(s -> new Served(s.outputs(), s.version(), s.queueNanos() + s.computeNanos()));
  }

  @Override
  public Signature signature(String model, Long version) {
    LoadedModel m = version == null ? highest(model) : registry.find(model, version);
    return m == null ? null : new Signature(m.signature().inputs(), m.signature().outputs());
  }

  private LoadedModel highest(String model) {
    Long v = registry.highestLoaded(model);
    return v == null ? null : registry.find(model, v);
  }

  @Override
  public boolean isModel(String name) {
    return registry.isLoaded(name, null) || (store != null && store.modelNames().contains(name));
  }
}
