package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.batching.DynamicBatcher;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.IntegrityException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * Turns a stored model version into a {@link LoadedModel} ready to serve: resolves it in the store,
 * verifies its sha256, opens the ORT session, reads the signature, builds the batcher and warms it
 * with zero batches. Owns the {@code distill-ort} worker pool the batchers run on and the batch
 * timer; {@link #open} blocks and runs on the registry's {@code distill-load} worker. Thread-safe;
 * the session of a model that fails to load is closed here.
 */
final class ModelLoader {

  private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

  private final Vertx vertx;
  private final ModelStore store;
  private final SessionFactory sessions;
  private final GatewayMetrics metrics;
  private final ModelRegistry.Options options;
  private final WorkerExecutor ortWorkers;
  private final ScheduledExecutorService batchTimer;

  ModelLoader(
      Vertx vertx,
      ModelStore store,
      SessionFactory sessions,
      GatewayMetrics metrics,
      ModelRegistry.Options options) {
    this.vertx = vertx;
    this.store = store;
    this.sessions = sessions;
    this.metrics = metrics;
    this.options = options;
    this.ortWorkers = vertx.createSharedWorkerExecutor("distill-ort", options.workers());
    this.batchTimer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "distill-batch-timer");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Loads {@code name} at {@code version} (null: the store's latest). Blocks.
   *
   * @param closer called when the last reference of the returned model is released
   * @throws UnknownModelException when the store has no such version
   * @throws ModelLoadException when it fails verification, does not open or does not warm
   */
  LoadedModel open(String name, Long version, boolean pinned, Consumer<LoadedModel> closer) {
    ModelVersion stored =
        version == null
            ? store
                .latest(name)
                .orElseThrow(
                    () ->
                        new UnknownModelException(
                            "model '"
                                + name
                                + "' is not in the store (stored models: "
                                + store.modelNames()
                                + ")"))
            : store
                .find(name, version)
                .orElseThrow(
                    () ->
                        new UnknownModelException(
                            "model "
                                + name
                                + ":"
                                + version
                                + " is not in the store (stored versions: "
                                + store.versions(name).stream().map(ModelVersion::version).toList()
                                + ")"));
    try {
      store.verify(stored);
    } catch (IntegrityException e) {
      throw new ModelLoadException(
          "sha256 mismatch for "
              + stored.id()
              + " ("
              + stored.modelFile()
              + "): expected "
              + e.expectedSha256()
              + ", found "
              + e.actualSha256()
              + " (corrupt or modified file)",
          e);
    } catch (RuntimeException e) {
      throw new ModelLoadException("cannot verify " + stored.id() + ": " + e.getMessage(), e);
    }
    OrtSession session;
    try {
      session = sessions.open(stored.modelFile());
    } catch (OrtException e) {
      throw new ModelLoadException(
          "ONNX Runtime cannot open "
              + stored.id()
              + " ("
              + stored.modelFile()
              + "): "
              + e.getMessage(),
          e);
    }
    try {
      ModelSignature signature = ModelSignature.of(session, stored.id());
      BatchingConfig batching = options.batching().apply(name);
      boolean batchable = signature.batchable();
      if (!batchable) {
        batching = batching.withMaxBatchRows(1);
      }
      OnnxBatchRunner runner =
          new OnnxBatchRunner(stored.id(), sessions.environment(), session, signature);
      String versionLabel = Long.toString(stored.version());
      DynamicBatcher<InferRequest, List<Tensor>> batcher =
          new DynamicBatcher<>(
              stored.id(),
              vertx,
              ortWorkers,
              options.workers(),
              batchTimer,
              batching,
              batchable ? r -> Math.toIntExact(r.rows()) : r -> 1,
              runner,
              metrics.batchObserver(name, versionLabel));
      warm(stored.id(), runner, signature, batchable ? batching.maxBatchRows() : 1);
      return new LoadedModel(stored, session, signature, batcher, closer, pinned);
    } catch (RuntimeException | OrtException e) {
      closeQuietly(session, stored.id());
      if (e instanceof ModelLoadException mle) {
        throw mle;
      }
      throw new ModelLoadException("cannot prepare " + stored.id() + ": " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(OrtSession session, String id) {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the session of " + id + " failed: " + e);
    }
  }

  // Runs a batch of zeros (1 row, then maxRows rows) so the first real request pays no
  // allocation or kernel-selection cost.
  private static void warm(
      String id, OnnxBatchRunner runner, ModelSignature signature, int maxRows) {
    for (int rows : maxRows > 1 ? new int[] {1, maxRows} : new int[] {1}) {
      List<Tensor> inputs = new ArrayList<>();
      for (TensorSpec spec : signature.inputs()) {
        long[] shape = spec.shape();
        long elements = 1;
        for (int d = 0; d < shape.length; d++) {
          if (shape[d] == -1) {
            shape[d] = d == 0 ? rows : 1;
          }
          elements *= shape[d];
        }
        ByteBuffer zeros = Tensor.allocate(elements * spec.datatype().byteSize(), true);
        inputs.add(Tensor.of(spec.name(), spec.datatype(), shape, zeros));
      }
      try {
        runner.run(List.of(new InferRequest(null, inputs, List.of(), false, Map.of())));
      } catch (RuntimeException e) {
        throw new ModelLoadException(
            "warm-up of "
                + id
                + " with a batch of "
                + rows
                + " zero rows failed: "
                + e.getMessage(),
            e);
      }
    }
  }

  /** Stops the batch timer and closes the ORT workers; call once every session is closed. */
  Future<Void> close() {
    batchTimer.shutdownNow();
    return ortWorkers.close();
  }
}
