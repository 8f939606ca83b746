package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.batching.DynamicBatcher;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.IntegrityException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.StoreEvent;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * The model versions the gateway serves, several models and several versions side by side.
 * The default version of a model is its highest loaded version; {@code /versions/{v}} pins one.
 *
 * <pre>{@code
 * ModelRegistry models = new ModelRegistry(vertx, store, sessions, metrics, options);
 * models.start().await();                 // loads the latest version of every stored model
 * LoadedModel m = models.acquire("ctr", null);
 * try { m ... models.infer(m, request) ... } finally { m.release(); }
 * }</pre>
 *
 * <p>New versions appearing in the store are loaded, verified (sha256), warmed with a dummy
 * batch and swapped in; the version they replace stops receiving new requests and closes once
 * its in-flight requests are done (reference counted). A version that fails to load leaves the
 * previous one serving and counts {@code distill_model_load_failures_total}. Sessions are
 * created and closed on the {@code distill-load} worker, runs happen on {@code distill-ort}.
 * Thread-safe: reads use an immutable snapshot, changes are serialised by a lock.
 */
public final class ModelRegistry {

  private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

  /** Registry tuning; see {@code GatewayConfig}. */
  public record Options(int workers, Function<String, BatchingConfig> batching,
      Duration watchInterval) {}

  /** One row of the repository index. */
  public record IndexEntry(String name, long version, String state, String reason) {}

  private final Vertx vertx;
  private final ModelStore store;
  private final SessionFactory sessions;
  private final GatewayMetrics metrics;
  private final Options options;
  private final WorkerExecutor ortWorkers;
  private final WorkerExecutor loadWorker;
  private final ScheduledExecutorService batchTimer;

  private final Object lock = new Object();
  private volatile Map<String, NavigableMap<Long, LoadedModel>> serving = Map.of();
  private final Map<String, Future<LoadedModel>> loading = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final Map<LoadedModel, Promise<Void>> closed = new ConcurrentHashMap<>();
  private AutoCloseable watcher;
  private boolean shutdown;

  public ModelRegistry(Vertx vertx, ModelStore store, SessionFactory sessions,
      GatewayMetrics metrics, Options options) {
    this.vertx = vertx;
    this.store = store;
    this.sessions = sessions;
    this.metrics = metrics;
    this.options = options;
    this.ortWorkers = vertx.createSharedWorkerExecutor("distill-ort", options.workers());
    this.loadWorker = vertx.createSharedWorkerExecutor("distill-load", 1);
    this.batchTimer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "distill-batch-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /** The batching configuration of {@code model}. */
  public BatchingConfig batching(String model) {
    return options.batching().apply(model);
  }

  /** The store this registry serves from. */
  public ModelStore store() {
    return store;
  }

  /**
   * Loads the latest loadable version of every stored model (falling back to older versions
   * when the latest fails) and starts watching the store. Never fails for a bad model.
   */
  public Future<Void> start() {
    // Watch first, so that a version published while the initial loads run is not missed.
    return vertx.<List<String>>executeBlocking(() -> {
      synchronized (lock) {
        if (!shutdown) {
          watcher = store.watch(this::onStoreEvent, options.watchInterval(), false);
        }
      }
      return store.modelNames();
    }, false).compose(names -> {
      List<Future<?>> loads = new ArrayList<>();
      for (String name : names) {
        loads.add(loadNewestLoadable(name));
      }
      return Future.join(loads).<Void>mapEmpty().otherwiseEmpty();
    });
  }

  private Future<LoadedModel> loadNewestLoadable(String name) {
    return vertx.<List<ModelVersion>>executeBlocking(() -> store.versions(name), false)
        .compose(versions -> tryLoad(name, versions, versions.size() - 1));
  }

  private Future<LoadedModel> tryLoad(String name, List<ModelVersion> versions, int index) {
    if (index < 0) {
      return Future.failedFuture(new ModelLoadException("no loadable version of " + name));
    }
    Long highest = highestLoaded(name);
    if (highest != null && highest >= versions.get(index).version()) {
      return Future.succeededFuture(find(name, highest));
    }
    return load(name, versions.get(index).version(), false)
        .recover(e -> tryLoad(name, versions, index - 1));
  }

  private void onStoreEvent(StoreEvent event) {
    if (event.kind() == StoreEvent.Kind.ADDED) {
      Long highest = highestLoaded(event.name());
      if (highest == null || event.version() > highest) {
        load(event.name(), event.version(), false);
      }
    } else {
      failures.remove(event.id());
      LoadedModel m = find(event.name(), event.version());
      if (m != null) {
        LOG.log(System.Logger.Level.INFO, "model {0} was removed from the store: unloading it",
            m.id());
        retire(List.of(m));
        if (highestLoaded(event.name()) == null) {
          loadNewestLoadable(event.name());
        }
      }
    }
  }

  /**
   * Loads {@code name} at {@code version} (null: the store's latest), verifies its sha256, warms
   * it and swaps it in. A version loaded with {@code pinned} stays loaded when newer versions
   * arrive; otherwise it retires the older unpinned versions of the model.
   *
   * @return the loaded version; fails with {@link UnknownModelException} when the store has no
   *     such version and with {@link ModelLoadException} when it cannot be loaded
   */
  public Future<LoadedModel> load(String name, Long version, boolean pinned) {
    synchronized (lock) {
      if (shutdown) {
        return Future.failedFuture(new ModelUnavailableException("the gateway is shutting down"));
      }
    }
    if (version != null) {
      LoadedModel already = find(name, version);
      if (already != null) {
        return Future.succeededFuture(already);
      }
    }
    String key = name + ":" + (version == null ? "latest" : version);
    Future<LoadedModel> running = loading.get(key);
    if (running != null) {
      return running;
    }
    Promise<LoadedModel> promise = Promise.promise();
    if (loading.putIfAbsent(key, promise.future()) != null) {
      return loading.get(key);
    }
    loadWorker.<LoadedModel>executeBlocking(() -> open(name, version, pinned), false)
        .map(this::swapIn)
        .onComplete(ar -> {
          loading.remove(key);
          if (ar.failed()) {
            onLoadFailure(name, version, ar.cause());
          }
        })
        .onComplete(promise);
    return promise.future();
  }

  private void onLoadFailure(String name, Long version, Throwable cause) {
    if (cause instanceof UnknownModelException || cause instanceof ModelUnavailableException) {
      return;
    }
    String id = name + ":" + (version == null ? "latest" : version);
    failures.put(id, cause.getMessage());
    metrics.loadFailed(name);
    Long serving = highestLoaded(name);
    LOG.log(System.Logger.Level.WARNING, "model {0} failed to load ({1}); {2}", id,
        cause.getMessage(), serving == null ? "no version of " + name + " is serving"
            : name + ":" + serving + " keeps serving");
  }

  // Runs on the load worker.
  private LoadedModel open(String name, Long version, boolean pinned) {
    ModelVersion stored = version == null
        ? store.latest(name).orElseThrow(() -> new UnknownModelException(
            "model '" + name + "' is not in the store (stored models: " + store.modelNames() + ")"))
        : store.find(name, version).orElseThrow(() -> new UnknownModelException(
            "model " + name + ":" + version + " is not in the store (stored versions: "
                + store.versions(name).stream().map(ModelVersion::version).toList() + ")"));
    try {
      store.verify(stored);
    } catch (IntegrityException e) {
      throw new ModelLoadException("sha256 mismatch for " + stored.id() + " ("
          + stored.modelFile() + "): expected "
          + e.expectedSha256() + ", found " + e.actualSha256() + " (corrupt or modified file)", e);
    } catch (RuntimeException e) {
      throw new ModelLoadException("cannot verify " + stored.id() + ": " + e.getMessage(), e);
    }
    OrtSession session;
    try {
      session = sessions.open(stored.modelFile());
    } catch (OrtException e) {
      throw new ModelLoadException("ONNX Runtime cannot open " + stored.id() + " ("
          + stored.modelFile() + "): " + e.getMessage(), e);
    }
    try {
      ModelSignature signature = ModelSignature.of(session, stored.id());
      BatchingConfig batching = options.batching().apply(name);
      boolean batchable = signature.batchable();
      if (!batchable) {
        batching = batching.withMaxBatchRows(1);
      }
      OnnxBatchRunner runner = new OnnxBatchRunner(stored.id(), sessions.environment(), session,
          signature);
      String versionLabel = Long.toString(stored.version());
      DynamicBatcher<InferRequest, List<Tensor>> batcher = new DynamicBatcher<>(stored.id(),
          vertx, ortWorkers, options.workers(), batchTimer, batching,
          batchable ? r -> Math.toIntExact(r.rows()) : r -> 1, runner,
          metrics.batchObserver(name, versionLabel));
      warm(stored.id(), runner, signature, batchable ? batching.maxBatchRows() : 1);
      return new LoadedModel(stored, session, signature, batcher, this::closeWhenUnused, pinned);
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
  private static void warm(String id, OnnxBatchRunner runner, ModelSignature signature,
      int maxRows) {
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
        throw new ModelLoadException("warm-up of " + id + " with a batch of " + rows
            + " zero rows failed: " + e.getMessage(), e);
      }
    }
  }

  // Runs on a worker after a successful open: publishes the new version, retires replaced ones.
  private LoadedModel swapIn(LoadedModel model) {
    List<LoadedModel> retired = new ArrayList<>();
    boolean stopping;
    synchronized (lock) {
      stopping = shutdown;
      if (!stopping) {
        Map<String, NavigableMap<Long, LoadedModel>> next = new HashMap<>(serving);
        NavigableMap<Long, LoadedModel> versions =
            new TreeMap<>(next.getOrDefault(model.name(), Collections.emptyNavigableMap()));
        boolean superseded = false;
        if (!model.pinned()) {
          for (LoadedModel newer : versions.tailMap(model.version(), false).values()) {
            superseded |= !newer.pinned();
          }
        }
        LoadedModel previous = superseded ? null : versions.put(model.version(), model);
        if (previous != null) {
          retired.add(previous);
        }
        if (superseded) {
          // A newer version finished loading first: this one never serves.
          retired.add(model);
        } else if (!model.pinned()) {
          for (LoadedModel older : List.copyOf(versions.headMap(model.version(), false).values())) {
            if (!older.pinned()) {
              versions.remove(older.version());
              retired.add(older);
            }
          }
        }
        next.put(model.name(), Collections.unmodifiableNavigableMap(versions));
        serving = Collections.unmodifiableMap(next);
        failures.remove(model.id());
      }
    }
    if (stopping) {
      closed.computeIfAbsent(model, k -> Promise.promise());
      model.release();
      throw new ModelUnavailableException("the gateway is shutting down");
    }
    metrics.loaded(model.name());
    updateLoadedGauge(model.name());
    LOG.log(System.Logger.Level.INFO, "model {0} loaded and serving ({1} inputs, {2} outputs){3}",
        model.id(), model.signature().inputs().size(), model.signature().outputs().size(),
        retired.isEmpty() ? "" : "; retiring " + retired.stream().map(LoadedModel::id).toList());
    for (LoadedModel r : retired) {
      closed.computeIfAbsent(r, k -> Promise.promise());
      r.release();
    }
    return model;
  }

  /**
   * Stops routing new requests to these versions and drops the registry's reference; each
   * closes once its in-flight requests are done.
   */
  private void retire(List<LoadedModel> models) {
    synchronized (lock) {
      Map<String, NavigableMap<Long, LoadedModel>> next = new HashMap<>(serving);
      for (LoadedModel m : models) {
        NavigableMap<Long, LoadedModel> versions = next.get(m.name());
        if (versions == null || versions.get(m.version()) != m) {
          continue;
        }
        NavigableMap<Long, LoadedModel> rest = new TreeMap<>(versions);
        rest.remove(m.version());
        if (rest.isEmpty()) {
          next.remove(m.name());
        } else {
          next.put(m.name(), Collections.unmodifiableNavigableMap(rest));
        }
      }
      serving = Collections.unmodifiableMap(next);
    }
    for (LoadedModel m : models) {
      closed.computeIfAbsent(m, k -> Promise.promise());
      updateLoadedGauge(m.name());
      m.release();
    }
  }

  private void closeWhenUnused(LoadedModel model) {
    Promise<Void> done = closed.computeIfAbsent(model, k -> Promise.promise());
    // Every batch must have returned from ORT before the session is freed: a request reference
    // may be gone while its batch still runs (a failed caller, a timed-out drain).
    model.batcher().drain().compose(v -> loadWorker.executeBlocking(() -> {
      model.session().close();
      model.markSessionClosed();
      return null;
    }, false)).onComplete(ar -> {
      if (ar.failed()) {
        LOG.log(System.Logger.Level.WARNING, "closing the session of " + model.id() + " failed: "
            + ar.cause());
      }
      metrics.forgetVersion(model.name(), Long.toString(model.version()));
      closed.remove(model);
      LOG.log(System.Logger.Level.INFO, "model {0} drained and closed", model.id());
      done.tryComplete();
    });
  }

  private void updateLoadedGauge(String name) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    metrics.loadedVersions(name, versions == null ? 0 : versions.size());
  }

  /**
   * Unloads {@code version} of {@code name} (null: every loaded version). In-flight requests
   * finish first. Fails with {@link UnknownModelException} when nothing matches.
   */
  public Future<Void> unload(String name, Long version) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    List<LoadedModel> targets = new ArrayList<>();
    if (versions != null) {
      if (version == null) {
        targets.addAll(versions.values());
      } else if (versions.containsKey(version)) {
        targets.add(versions.get(version));
      }
    }
    if (targets.isEmpty()) {
      return Future.failedFuture(new UnknownModelException("model " + name
          + (version == null ? "" : ":" + version) + " is not loaded (loaded: " + loadedIds() + ")"));
    }
    LOG.log(System.Logger.Level.INFO, "unloading {0}", targets.stream().map(LoadedModel::id).toList());
    retire(targets);
    return Future.succeededFuture();
  }

  /**
   * Takes a reference on the version that serves {@code name} ({@code version} null: the
   * highest loaded). The caller must {@link LoadedModel#release()} it.
   *
   * @throws UnknownModelException when no such version is loaded
   */
  public LoadedModel acquire(String name, Long version) {
    for (int attempt = 0; attempt < 100; attempt++) {
      NavigableMap<Long, LoadedModel> versions = serving.get(name);
      if (versions == null || versions.isEmpty()) {
        throw new UnknownModelException("model '" + name + "' is not loaded (loaded models: "
            + new TreeMap<>(serving).keySet() + ")");
      }
      LoadedModel m = version == null ? versions.lastEntry().getValue() : versions.get(version);
      if (m == null) {
        throw new UnknownModelException("model '" + name + "' has no loaded version " + version
            + " (loaded versions: " + versions.keySet() + ")");
      }
      if (m.tryAcquire()) {
        return m;
      }
      // It retired between the lookup and the acquire: the snapshot has changed, look again.
    }
    throw new ModelUnavailableException("model '" + name + "' is being swapped; retry");
  }

  /**
   * Shutdown is starting: every loaded version dispatches queued requests without waiting for
   * the queue delay, so in-flight requests finish while the HTTP server waits for them.
   */
  public void expedite() {
    for (NavigableMap<Long, LoadedModel> versions : serving.values()) {
      for (LoadedModel m : versions.values()) {
        m.batcher().expedite();
      }
    }
  }

  /**
   * Cheap admission check before decoding a request for {@code model} (acquired by the
   * caller): throws {@link ai.distill.gateway.batching.QueueFullException} when its batcher's
   * queue is full, {@link ai.distill.gateway.batching.BatcherClosedException} when draining.
   */
  public void checkAdmission(LoadedModel model) {
    model.batcher().checkAdmission();
  }

  /** Queues {@code request} on the batcher of {@code model} (acquired by the caller). */
  public Future<List<Tensor>> infer(LoadedModel model, InferRequest request) {
    return model.batcher().submit(request);
  }

  /** The loaded version, or null. */
  public LoadedModel find(String name, long version) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions == null ? null : versions.get(version);
  }

  /** The highest loaded version of {@code name}, or null when none is loaded. */
  public Long highestLoaded(String name) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions == null || versions.isEmpty() ? null : versions.lastKey();
  }

  /** Loaded model names, sorted. */
  public List<String> loadedNames() {
    return List.copyOf(new TreeMap<>(serving).keySet());
  }

  /** Loaded versions of {@code name}, ascending (empty when none). */
  public List<LoadedModel> loaded(String name) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions == null ? List.of() : List.copyOf(versions.values());
  }

  /** True when {@code name} (at {@code version}, or any version) is loaded. */
  public boolean isLoaded(String name, Long version) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions != null && (version == null ? !versions.isEmpty() : versions.containsKey(version));
  }

  /** The last load failure of {@code name:version}, if any. */
  public Optional<String> failure(String name, long version) {
    return Optional.ofNullable(failures.get(name + ":" + version));
  }

  private List<String> loadedIds() {
    List<String> ids = new ArrayList<>();
    for (NavigableMap<Long, LoadedModel> versions : new TreeMap<>(serving).values()) {
      for (LoadedModel m : versions.values()) {
        ids.add(m.id());
      }
    }
    return ids;
  }

  /**
   * Every stored version with its state ({@code READY}, {@code LOADING} or {@code UNAVAILABLE}
   * with a reason); reads the store on a worker thread.
   */
  public Future<List<IndexEntry>> index() {
    return vertx.executeBlocking(() -> {
      List<IndexEntry> entries = new ArrayList<>();
      for (ModelVersion v : store.allVersions()) {
        String state;
        String reason = "";
        if (find(v.name(), v.version()) != null) {
          state = "READY";
        } else if (loading.containsKey(v.id())) {
          state = "LOADING";
        } else {
          state = "UNAVAILABLE";
          reason = failures.getOrDefault(v.id(), "not loaded");
        }
        entries.add(new IndexEntry(v.name(), v.version(), state, reason));
      }
      return entries;
    }, false);
  }

  /**
   * Stops watching the store, drains every batcher (queued requests still run and answer),
   * retires every version and completes once all sessions are closed, which happens only after
   * every running batch returned; the ORT executor closes last. Call after the HTTP server stopped accepting requests.
   */
  public Future<Void> close() {
    List<LoadedModel> all = new ArrayList<>();
    AutoCloseable w;
    synchronized (lock) {
      shutdown = true;
      w = watcher;
      watcher = null;
      for (NavigableMap<Long, LoadedModel> versions : serving.values()) {
        all.addAll(versions.values());
      }
    }
    if (w != null) {
      try {
        w.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "closing the store watcher failed: " + e);
      }
    }
    for (LoadedModel m : all) {
      closed.computeIfAbsent(m, k -> Promise.promise());
    }
    List<Future<Void>> done = new ArrayList<>();
    for (Promise<Void> p : closed.values()) {
      done.add(p.future());
    }
    // Stop queueing and run what is queued now: the batches finish (their requests get their
    // answers) before the sessions close, and the ORT executor closes only after every session.
    List<Future<Void>> drains = new ArrayList<>();
    for (LoadedModel m : all) {
      drains.add(m.batcher().drain());
    }
    retire(all);
    List<Future<Void>> sessionsClosed = new ArrayList<>(done);
    return Future.join(drains).otherwiseEmpty()
        .transform(ignored -> Future.join(sessionsClosed)).<Void>mapEmpty().otherwiseEmpty()
        .eventually(() -> {
          batchTimer.shutdownNow();
          return Future.join(ortWorkers.close(), loadWorker.close()).<Void>mapEmpty()
              .otherwiseEmpty();
        });
  }
}
