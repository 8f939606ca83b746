package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.batching.DynamicBatcher;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.StoreEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The model versions the gateway serves, several models and several versions side by side. The
 * default version of a model is its highest loaded version; {@code /versions/{v}} pins one.
 *
 * <pre>{@code
 * ModelRegistry models = new ModelRegistry(vertx, store, sessions, metrics, options);
 * models.start().await();                 // loads the latest version of every stored model
 * models.infer("ctr", null, request);    // Future<Served>: outputs and the version that ran them
 * }</pre>
 *
 * <p>New versions appearing in the store are loaded by the {@link ModelLoader} (verified, opened,
 * warmed with a dummy batch) and swapped in here; the version they replace stops receiving new
 * requests and closes once its in-flight requests are done (reference counted). A version that
 * fails to load leaves the previous one serving and counts {@code
 * distill_model_load_failures_total}. Sessions are created and closed on the {@code distill-load}
 * worker, runs happen on {@code distill-ort}. Thread-safe: reads use an immutable snapshot, changes
 * are serialised by a lock.
 */
public final class ModelRegistry {

  private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

  /** Registry tuning; see {@code GatewayConfig}. */
  public record Options(
      int workers,
      Function<String, BatchingConfig> batching,
      Duration watchInterval,
      Function<String, ModelPolicy> policies) {}

  private final Vertx vertx;
  private final ModelStore store;
  private final GatewayMetrics metrics;
  private final Options options;
  private final ModelLoader loader;
  private final WorkerExecutor loadWorker;
  private final ModelGuard guard;

  private final Object lock = new Object();
  private volatile ServingVersions serving = ServingVersions.EMPTY;
  private final Map<String, Future<LoadedModel>> loading = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final VersionCloser closer;
  private AutoCloseable watcher;
  private boolean shutdown;

  public ModelRegistry(
      Vertx vertx,
      ModelStore store,
      SessionFactory sessions,
      GatewayMetrics metrics,
      Options options) {
    this.vertx = vertx;
    this.store = store;
    this.metrics = metrics;
    this.options = options;
    this.loader = new ModelLoader(vertx, store, sessions, metrics, options);
    this.loadWorker = vertx.createSharedWorkerExecutor("distill-load", 1);
    this.closer = new VersionCloser(loadWorker, metrics);
    this.guard = new ModelGuard(vertx, metrics.registry(), options.policies());
  }

  /** The batching configuration of {@code model}. */
  public BatchingConfig batching(String model) {
    return options.batching().apply(model);
  }

  /** How {@code model} is guarded (input policy, timeout, breaker). */
  public ModelPolicy policy(String model) {
    return guard.policy(model);
  }

  /** The store this registry serves from. */
  public ModelStore store() {
    return store;
  }

  /**
   * Loads the latest loadable version of every stored model (falling back to older versions when
   * the latest fails) and starts watching the store. Never fails for a bad model.
   */
  public Future<Void> start() {
    // Watch first, so that a version published while the initial loads run is not missed.
    return vertx
        .<List<String>>executeBlocking(
            () -> {
              synchronized (lock) {
                if (!shutdown) {
                  watcher = store.watch(this::onStoreEvent, options.watchInterval(), false);
                }
              }
              return store.modelNames();
            },
            false)
        .compose(
            names -> {
              List<Future<?>> loads = new ArrayList<>();
              for (String name : names) {
                loads.add(loadNewestLoadable(name));
              }
              return Future.join(loads).<Void>mapEmpty().otherwiseEmpty();
            });
  }

  private Future<LoadedModel> loadNewestLoadable(String name) {
    return vertx
        .<List<ModelVersion>>executeBlocking(() -> store.versions(name), false)
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
        LOG.log(
            System.Logger.Level.INFO, "model {0} was removed from the store: unloading it", m.id());
        retire(List.of(m));
        if (highestLoaded(event.name()) == null) {
          loadNewestLoadable(event.name());
        }
      }
    }
  }

  /**
   * Loads {@code name} at {@code version} (null: the store's latest), verifies its sha256, warms it
   * and swaps it in. A version loaded with {@code pinned} stays loaded when newer versions arrive;
   * otherwise it retires the older unpinned versions of the model.
   *
   * @return the loaded version; fails with {@link UnknownModelException} when the store has no such
   *     version and with {@link ModelLoadException} when it cannot be loaded
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
    loadWorker
        .<LoadedModel>executeBlocking(
            () -> loader.open(name, version, pinned, closer::closeWhenUnused), false)
        .map(this::swapIn)
        .onComplete(
            ar -> {
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
    LOG.log(
        System.Logger.Level.WARNING,
        "model {0} failed to load ({1}); {2}",
        id,
        cause.getMessage(),
        serving == null
            ? "no version of " + name + " is serving"
            : name + ":" + serving + " keeps serving");
  }

  // Runs on a worker after a successful open: publishes the new version, retires replaced ones.
  private LoadedModel swapIn(LoadedModel model) {
    List<LoadedModel> retired = new ArrayList<>();
    boolean stopping;
    synchronized (lock) {
      stopping = shutdown;
      if (!stopping) {
        ServingVersions.Swap swap = serving.swapIn(model);
        serving = swap.next();
        retired.addAll(swap.retired());
        failures.remove(model.id());
      }
    }
    if (stopping) {
      closer.retiring(model);
      model.release();
      throw new ModelUnavailableException("the gateway is shutting down");
    }
    metrics.loaded(model.name());
    updateLoadedGauge(model.name());
    LOG.log(
        System.Logger.Level.INFO,
        "model {0} loaded and serving ({1} inputs, {2} outputs){3}",
        model.id(),
        model.signature().inputs().size(),
        model.signature().outputs().size(),
        retired.isEmpty() ? "" : "; retiring " + retired.stream().map(LoadedModel::id).toList());
    for (LoadedModel r : retired) {
      closer.retiring(r);
      r.release();
    }
    return model;
  }

  // Stops routing new requests to these versions; each closes once its in-flight requests are done.
  private void retire(List<LoadedModel> models) {
    synchronized (lock) {
      serving = serving.without(models);
    }
    for (LoadedModel m : models) {
      closer.retiring(m);
      updateLoadedGauge(m.name());
      m.release();
    }
  }

  private void updateLoadedGauge(String name) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    metrics.loadedVersions(name, versions == null ? 0 : versions.size());
  }

  /**
   * Unloads {@code version} of {@code name} (null: every loaded version). In-flight requests finish
   * first. Fails with {@link UnknownModelException} when nothing matches.
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
      return Future.failedFuture(
          new UnknownModelException(
              "model "
                  + name
                  + (version == null ? "" : ":" + version)
                  + " is not loaded (loaded: "
                  + loadedIds()
                  + ")"));
    }
    LOG.log(
        System.Logger.Level.INFO, "unloading {0}", targets.stream().map(LoadedModel::id).toList());
    retire(targets);
    return Future.succeededFuture();
  }

  /**
   * Takes a reference on the version that serves {@code name} ({@code version} null: the highest
   * loaded). The caller must {@link LoadedModel#release()} it.
   *
   * @throws UnknownModelException when no such version is loaded
   */
  public LoadedModel acquire(String name, Long version) {
    for (int attempt = 0; attempt < 100; attempt++) {
      NavigableMap<Long, LoadedModel> versions = serving.get(name);
      if (versions == null || versions.isEmpty()) {
        throw new UnknownModelException(
            "model '" + name + "' is not loaded (loaded models: " + serving.names() + ")");
      }
      LoadedModel m = version == null ? versions.lastEntry().getValue() : versions.get(version);
      if (m == null) {
        throw new UnknownModelException(
            "model '"
                + name
                + "' has no loaded version "
                + version
                + " (loaded versions: "
                + versions.keySet()
                + ")");
      }
      if (m.tryAcquire()) {
        return m;
      }
      // It retired between the lookup and the acquire: the snapshot has changed, look again.
    }
    throw new ModelUnavailableException("model '" + name + "' is being swapped; retry");
  }

  /**
   * Shutdown is starting: every loaded version dispatches queued requests without waiting for the
   * queue delay, so in-flight requests finish while the HTTP server waits for them.
   */
  public void expedite() {
    for (LoadedModel m : serving.models()) {
      m.batcher().expedite();
    }
  }

  /** Throws QueueFullException (queue full) or BatcherClosedException (draining): cheap. */
  public void checkAdmission(LoadedModel model) {
    model.batcher().checkAdmission();
  }

  /**
   * What {@link #infer(String, Long, InferRequest)} returned, which version ran it, and what the
   * model cost the request: its queue wait and its batch's compute time.
   */
  public record Served(
      String model, long version, List<Tensor> outputs, long queueNanos, long computeNanos) {}

  /**
   * Queues {@code request} on the batcher of {@code model}, holding a reference of its own until
   * the outputs are back: the caller's reference (from {@link #acquire}, held while it decoded the
   * request against this version's signature) may be released as soon as this returns. Never
   * throws; fails with {@link ModelUnavailableException} when the version already closed. The
   * result carries the request's queue wait and its batch's compute time.
   */
  public Future<DynamicBatcher.Timed<List<Tensor>>> infer(LoadedModel model, InferRequest request) {
    if (!model.tryAcquire()) {
      return Future.failedFuture(
          new ModelUnavailableException("model " + model.id() + " was retired; retry"));
    }
    try {
      return guard
          .run(model.name(), request, () -> model.batcher().submitTimed(request))
          .andThen(ar -> model.release());
    } catch (RuntimeException e) {
      model.release();
      return Future.failedFuture(e);
    }
  }

  /**
   * Runs {@code request} on the version serving {@code name} ({@code version} null: the highest
   * loaded), holding a reference until the outputs are back. Never throws; fails with {@link
   * UnknownModelException} when no such version is loaded.
   */
  public Future<Served> infer(String name, Long version, InferRequest request) {
    LoadedModel m;
    try {
      m = acquire(name, version);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    try {
      return infer(m, request)
          .map(t -> new Served(m.name(), m.version(), t.value(), t.queueNanos(), t.computeNanos()));
    } finally {
      m.release();
    }
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
    return serving.names();
  }

  /** Loaded versions of {@code name}, ascending (empty when none). */
  public List<LoadedModel> loaded(String name) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions == null ? List.of() : List.copyOf(versions.values());
  }

  /** True when {@code name} (at {@code version}, or any version) is loaded. */
  public boolean isLoaded(String name, Long version) {
    NavigableMap<Long, LoadedModel> versions = serving.get(name);
    return versions != null
        && (version == null ? !versions.isEmpty() : versions.containsKey(version));
  }

  /** The last load failure of {@code name:version}, if any. */
  public Optional<String> failure(String name, long version) {
    return Optional.ofNullable(failures.get(name + ":" + version));
  }

  private List<String> loadedIds() {
    return serving.models().stream().map(LoadedModel::id).toList();
  }

  /**
   * Every stored version with its state ({@code READY}, {@code LOADING} or {@code UNAVAILABLE} with
   * a reason); reads the store on a worker thread.
   */
  public Future<List<RepositoryIndex.Entry>> index() {
    return vertx.executeBlocking(() -> RepositoryIndex.of(store, this), false);
  }

  /** True while {@code name:version} is loading. */
  boolean isLoading(String id) {
    return loading.containsKey(id);
  }

  /**
   * Stops watching the store, drains every batcher (queued requests still run and answer), retires
   * every version and completes once all sessions are closed, which happens only after every
   * running batch returned; the ORT executor closes last. Call after the HTTP server stopped
   * accepting requests.
   */
  public Future<Void> close() {
    List<LoadedModel> all = new ArrayList<>();
    AutoCloseable w;
    synchronized (lock) {
      shutdown = true;
      w = watcher;
      watcher = null;
      all.addAll(serving.models());
    }
    if (w != null) {
      try {
        w.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "closing the store watcher failed: " + e);
      }
    }
    for (LoadedModel m : all) {
      closer.retiring(m);
    }
    List<Future<Void>> done = closer.allClosed();
    // Stop queueing and run what is queued now: the batches finish (their requests get their
    // answers) before the sessions close, and the ORT executor closes only after every session.
    List<Future<Void>> drains = new ArrayList<>();
    for (LoadedModel m : all) {
      drains.add(m.batcher().drain());
    }
    retire(all);
    List<Future<Void>> sessionsClosed = new ArrayList<>(done);
    return Future.join(drains)
        .otherwiseEmpty()
        .transform(ignored -> Future.join(sessionsClosed))
        .<Void>mapEmpty()
        .otherwiseEmpty()
        .eventually(
            () ->
                Future.join(loader.close(), loadWorker.close()).<Void>mapEmpty().otherwiseEmpty());
  }
}
