package ai.distill.gateway.experiment;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A {@link VariantInvoker} without ORT: every model answers {@code prob = scale × x[0]} per row.
 */
final class StubInvoker implements VariantInvoker {

  static final Signature SIGNATURE =
      new Signature(
          List.of(new TensorSpec("x", Datatype.FP32, new long[] {-1, 2})),
          List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1})));

  final Map<String, Float> scale = new ConcurrentHashMap<>();
  final Map<String, Signature> signatures = new ConcurrentHashMap<>();
  final Set<String> models = ConcurrentHashMap.newKeySet();

  /** When set, calls to this model block their thread on {@link #gate} before answering. */
  volatile String blockedModel;

  final CountDownLatch gate = new CountDownLatch(1);
  final CountDownLatch blockedEntered = new CountDownLatch(1);

  StubInvoker(String... names) {
    for (String n : names) {
      models.add(n);
      scale.put(n, 1f);
      signatures.put(n, SIGNATURE);
    }
  }

  static InferRequest request(String id, String user, float... firstColumn) {
    float[] x = new float[firstColumn.length * 2];
    for (int i = 0; i < firstColumn.length; i++) {
      x[2 * i] = firstColumn[i];
    }
    Map<String, Object> params = user == null ? Map.of() : Map.of("user_id", user);
    return new InferRequest(
        id,
        List.of(Tensor.ofFloats("x", new long[] {firstColumn.length, 2}, x)),
        List.of(),
        false,
        params);
  }

  @Override
  public Future<Served> infer(String model, Long version, InferRequest request) {
    if (model.equals(blockedModel)) {
      blockedEntered.countDown();
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Tensor x = request.input("x");
    int rows = (int) x.dim(0);
    float[] p = new float[rows];
    for (int r = 0; r < rows; r++) {
      p[r] = (float) x.getDouble(2L * r) * scale.get(model);
    }
    Promise<Served> promise = Promise.promise();
    promise.complete(new Served(List.of(Tensor.ofFloats("prob", new long[] {rows, 1}, p)), 7));
    return promise.future();
  }

  @Override
  public Signature signature(String model, Long version) {
    return signatures.get(model);
  }

  @Override
  public boolean isModel(String name) {
    return models.contains(name);
  }
}
