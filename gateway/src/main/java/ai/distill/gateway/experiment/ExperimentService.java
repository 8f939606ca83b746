package ai.distill.gateway.experiment;

import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.feedback.Impression;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/**
 * The experiment engine behind the HTTP routes: creates and restores experiments, routes requests
 * through them (sticky assignment, then the variant's model), shadow-scores student traffic and
 * runs the decision engine. The requests it serves are observed by {@link FeedbackService}
 * (impressions; joined clicks come back to the experiment's counts) and {@link CaptureService}
 * (sampled rows). Vert.x-agnostic; {@link ExperimentRoutes} wires it to a router and timers.
 * Thread-safe; {@link #evaluateAll}, {@link #snapshot} and {@link #close} touch the disk and belong
 * on a worker thread.
 *
 * <pre>{@code
 * ExperimentService s = new ExperimentService(new RegistryInvoker(models, store), store, shadowExecutor,
 *     ExperimentService.Options.DEFAULT, ExperimentMetrics.register(registry), feedback, capture);
 * s.start();
 * s.create(ExperimentJson.definition(body));
 * s.infer("ctr-ab", request).onSuccess(routed -> ...);
 * }</pre>
 */
public final class ExperimentService implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(ExperimentService.class.getName());

  /** Bounds. */
  public record Options(int maxUsersPerVariant, int shadowMaxInFlight) {
    public static final Options DEFAULT = new Options(Experiment.DEFAULT_MAX_USERS, 64);

    public Options withShadowMaxInFlight(int n) {
      return new Options(maxUsersPerVariant, n);
    }
  }

  /** A request served through an experiment. */
  public record Routed(
      String experiment,
      String model,
      long version,
      String id,
      List<Tensor> outputs,
      boolean anonymous) {
    /** The response's {@code parameters}: variant (the model), model_version, experiment. */
    public Map<String, Object> parameters() {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("variant", model);
      p.put("model_version", String.valueOf(version));
      p.put("experiment", experiment);
      return p;
    }
  }

  private final VariantInvoker invoker;
  private final ExperimentRepository repository;
  private final Options options;
  private final ExperimentMetrics metrics;
  private final FeedbackService feedback;
  private final CaptureService capture;
  private final ShadowScorer shadow;
  private final Map<String, Experiment> experiments = new ConcurrentSkipListMap<>();
  private final List<ServedListener> servedListeners = new CopyOnWriteArrayList<>();
  private final ExperimentSaves saves;
  private final ExperimentGenerations generations;
  private volatile ExperimentSharing sharing = ExperimentSharing.ALONE;

  /**
   * @param storeRoot the store's root (experiments live under it), or null to keep nothing on disk
   * @param feedback remembers the impressions served; null for a private one
   * @param capture captures sampled traffic; null to capture nothing
   */
  public ExperimentService(
      VariantInvoker invoker,
      Path storeRoot,
      Executor shadowDispatch,
      Options options,
      ExperimentMetrics metrics,
      FeedbackService feedback,
      CaptureService capture) {
    this.invoker = invoker;
    this.options = options;
    this.metrics = metrics == null ? ExperimentMetrics.NOOP : metrics;
    this.repository =
        storeRoot == null ? null : new ExperimentRepository(storeRoot.resolve("experiments"));
    this.saves = new ExperimentSaves(repository);
    this.generations =
        new ExperimentGenerations(
            experiments, saves, repository, this.metrics, options.maxUsersPerVariant());
    this.feedback =
        feedback != null
            ? feedback
            : new FeedbackService(FeedbackService.DEFAULT_MAX_ENTRIES, null);
    this.capture = capture;
    this.shadow =
        new ShadowScorer(invoker, shadowDispatch, options.shadowMaxInFlight(), this.metrics);
    this.feedback.addJoinListener(this::joined);
    if (capture != null) {
      capture.experimentNames(this::isExperiment);
    }
  }

  /**
   * Restores persisted experiments and the pending impressions of the feedback store (so clicks on
   * responses served before a restart still join). Blocking; call before serving.
   */
  public List<String> start() {
    List<String> errors = new ArrayList<>();
    if (repository != null) {
      try {
        int n = repository.loadImpressions(feedback.store());
        if (n > 0) {
          LOG.log(System.Logger.Level.INFO, "restored {0} pending impressions", n);
        }
      } catch (IOException | RuntimeException ex) {
        errors.add(repository.impressionsFile() + ": " + ex.getMessage());
      }
      List<ExperimentDefinition> definitions = new ArrayList<>();
      for (Experiment e :
          repository.loadAll(metrics, options.maxUsersPerVariant(), errors, definitions)) {
        experiments.put(e.name(), e);
        saves.loaded(e);
        LOG.log(System.Logger.Level.INFO, "resumed experiment {0} ({1})", e.name(), e.status());
      }
      for (ExperimentDefinition d : definitions) {
        try {
          create(d);
          LOG.log(
              System.Logger.Level.INFO,
              "created experiment {0} from its definition file",
              d.name());
        } catch (RuntimeException ex) {
          errors.add(d.name() + ".json: " + ex.getMessage());
        }
      }
    }
    errors.forEach(err -> LOG.log(System.Logger.Level.WARNING, "experiment not resumed: {0}", err));
    return errors;
  }

  public ShadowScorer shadow() {
    return shadow;
  }

  /** Where the impressions of the requests served through experiments go. */
  public FeedbackService feedback() {
    return feedback;
  }

  public boolean isExperiment(String name) {
    return experiments.containsKey(name);
  }

  /** The experiment, or throws {@link UnknownVariantException} (HTTP 404). */
  public Experiment get(String name) {
    Experiment e = experiments.get(name);
    if (e == null) {
      throw new UnknownVariantException(
          "experiment '" + name + "' does not exist (experiments: " + experiments.keySet() + ")");
    }
    return e;
  }

  public List<Experiment> list() {
    return new ArrayList<>(experiments.values());
  }

  /**
   * The signature a request to this experiment must match: the teacher's. Null when it is not
   * loaded.
   */
  public VariantInvoker.Signature signature(String experiment) {
    Experiment e = get(experiment);
    ExperimentDefinition.Variant t = e.definition().variants().get(e.teacherIndex());
    return invoker.signature(t.model(), t.version());
  }

  /**
   * Creates an experiment after checking it against the models: the name must not be a model's
   * ({@link ExperimentConflictException}), every variant must be loaded and have the teacher's
   * signature ({@link IllegalArgumentException}). Persists it (blocking). Shared, it is installed
   * from the shared log, on every instance ({@link ExperimentSharing#define}).
   */
  public Experiment create(ExperimentDefinition def) {
    ExperimentChecks.check(invoker, def);
    generations.checkAbsent(def.name());
    // shared: every instance, this one included, installs it from the shared log
    return sharing.define(def, null)
        ? get(def.name())
        : generations.install(def, null, System.currentTimeMillis());
  }

  /**
   * Puts {@code model:version} into experiment {@code name} as a canary at {@code weight} percent
   * of its traffic, as the experiment's next generation ({@link CanaryPlan}): the running
   * generation is stopped and archived under {@code experiments/archive/}, the new one starts
   * counting afresh (its split changed). Without an experiment of that name, creates one of {@code
   * teacher} and the canary. Blocking; shared, every instance installs the next generation from the
   * shared log ({@link ExperimentSharing#define}).
   */
  public synchronized Experiment addCanary(
      String name, String teacher, String model, long version, double weight) {
    Experiment current = experiments.get(name);
    ExperimentDefinition next = CanaryPlan.next(current, name, teacher, model, version, weight);
    ExperimentChecks.check(invoker, next);
    String reason = "superseded by the canary " + model + ":" + version + " (next generation)";
    Experiment e =
        sharing.define(next, reason)
            ? get(name)
            : generations.next(next, reason, System.currentTimeMillis());
    LOG.log(
        System.Logger.Level.INFO,
        "experiment {0}: canary {1}:{2} at {3}% ({4})",
        name,
        model,
        version,
        weight,
        ExperimentJson.toJson(next).getJsonArray("variants").encode());
    return e;
  }

  public void addServedListener(ServedListener listener) {
    servedListeners.add(listener);
  }

  /** An assignment made for one request, carried from {@link #select} to {@link #completed}. */
  public record Selection(Experiment experiment, Experiment.Assignment assignment, String userId) {}

  /**
   * Assigns a request to a variant: sticky for {@code parameters.user_id}, a random bucket (counted
   * apart) without one. Throws {@link UnknownVariantException} for an unknown experiment.
   * Non-blocking.
   */
  public Selection select(String name, InferRequest request) {
    Experiment e = get(name);
    String user = FeedbackService.userId(request.parameters());
    return new Selection(e, e.assign(user), user);
  }

  /**
   * Records the outcome of a selected request: its outcome ({@link RequestOutcome}: model errors
   * and load shedding apart) and model cost for the guardrails, impressions for the statistics, the
   * impression for click feedback; then, off the response path, capture (at the experiment's
   * capture rate) and shadow scoring (whose teacher runs are never counted as the teacher arm's).
   * Non-blocking; never throws.
   *
   * @param latencyNanos end to end, shown only
   * @param costNanos what the model itself cost the request: queue wait + batch compute
   * @return the routing summary on success, null on failure
   */
  public Routed completed(
      Selection s,
      InferRequest request,
      String id,
      long version,
      List<Tensor> outputs,
      long latencyNanos,
      long costNanos,
      Throwable failure) {
    Experiment e = s.experiment();
    Experiment.Assignment a = s.assignment();
    int rows = (int) request.rows();
    RequestOutcome outcome = RequestOutcome.of(failure);
    // shared: every instance counts what the shared log delivers (applyServed), this one included
    if (sharing == ExperimentSharing.ALONE) {
      e.recordServed(
          a, s.userId(), rows, outcome, latencyNanos, costNanos, failure == null ? version : null);
    }
    for (ServedListener l : servedListeners) {
      try {
        l.served(s, id, rows, failure == null ? version : -1, outcome, latencyNanos, costNanos);
      } catch (RuntimeException ex) {
        LOG.log(System.Logger.Level.WARNING, "served listener failed for " + e.name(), ex);
      }
    }
    if (failure != null) {
      return null;
    }
    try {
      long deadline = System.currentTimeMillis() + e.definition().attributionWindowSeconds() * 1000;
      feedback.remember(
          new Impression(id, e.name(), a.variant(), a.model(), s.userId(), rows, deadline));
      boolean captured =
          capture != null
              && capture.capture(
                  e.name(),
                  a.model(),
                  version,
                  id,
                  request,
                  outputs,
                  e.definition().captureRate(),
                  deadline);
      shadow.maybeScore(
          e,
          a.variant(),
          request,
          outputs,
          captured ? teacher -> capture.teacherOutputs(id, teacher) : null);
    } catch (RuntimeException ex) {
      LOG.log(System.Logger.Level.WARNING, "experiment bookkeeping failed for " + e.name(), ex);
    }
    return new Routed(e.name(), a.model(), version, id, outputs, a.anonymous());
  }

  /**
   * The id of a response served through an experiment when the client chose none: signed and
   * self-describing ({@link FeedbackService#responseId}), so its click feedback joins on any
   * instance sharing the feedback key. Non-blocking.
   */
  public String responseId(Selection s, InferRequest request, long version) {
    long now = System.currentTimeMillis();
    Experiment e = s.experiment();
    Experiment.Assignment a = s.assignment();
    return feedback.responseId(
        e.name(),
        a.variant(),
        a.model(),
        version,
        s.userId(),
        (int) request.rows(),
        now,
        now + e.definition().attributionWindowSeconds() * 1000);
  }

  /**
   * Serves a request through an experiment without HTTP: {@link #select}, the variant's model,
   * {@link #completed}.
   */
  public Future<Routed> infer(String name, InferRequest request) {
    Selection s;
    try {
      s = select(name, request);
    } catch (UnknownVariantException ex) {
      return Future.failedFuture(ex);
    }
    String clientId = request.id() != null && !request.id().isEmpty() ? request.id() : null;
    long start = System.nanoTime();
    return invoker
        .infer(s.assignment().model(), s.assignment().version(), request)
        .transform(
            ar -> {
              long latency = System.nanoTime() - start;
              if (ar.failed()) {
                completed(s, request, clientId, -1, null, latency, 0, ar.cause());
                return Future.failedFuture(ar.cause());
              }
              VariantInvoker.Served served = ar.result();
              String id = clientId != null ? clientId : responseId(s, request, served.version());
              return Future.succeededFuture(
                  completed(
                      s,
                      request,
                      id,
                      served.version(),
                      served.outputs(),
                      latency,
                      served.costNanos(),
                      null));
            });
  }

  /** Feedback joined one of this service's impressions: the clicks count for its variant. */
  private void joined(Impression i, int[] clicks) {
    if (i.experiment() == null || sharing != ExperimentSharing.ALONE) {
      return; // shared: the clicks come back through applyClicks
    }
    Experiment e = experiments.get(i.experiment());
    // Clicks on a previous generation's responses do not count in the next one: served before it
    // began, or on an arm it does not have (a request in flight across the switch).
    List<ExperimentDefinition.Variant> arms = e == null ? List.of() : e.definition().variants();
    if (e != null
        && i.variant() < arms.size()
        && arms.get(i.variant()).model().equals(i.model())
        && i.expiresAtMillis() - e.definition().attributionWindowSeconds() * 1000
            >= e.createdMillis()) {
      int sum = 0;
      for (int c : clicks) {
        sum += c;
      }
      e.recordClicks(i.variant(), i.userId(), sum);
    }
  }

  /**
   * Shares this service's experiments with other instances from now on (counts from the shared log,
   * decisions by the one instance that {@link ExperimentSharing#decides}). Counts restored from
   * disk are dropped (the log, read from its beginning, holds them all); decision states are kept.
   */
  public ExperimentReplication share(ExperimentSharing sharing) {
    this.sharing = sharing;
    return new ExperimentReplication(
        experiments, saves, generations, metrics, options.maxUsersPerVariant());
  }

  /**
   * Runs every experiment's decision engine at {@code nowMillis}; persists those whose history
   * changed. Shared, only the deciding instance decides (and shares what it decided); the others
   * refresh their figures. Blocking.
   */
  public void evaluateAll(long nowMillis) {
    ExperimentSharing shared = sharing;
    boolean decide = shared.decides();
    for (Experiment e : experiments.values()) {
      try {
        e.evaluate(nowMillis, decide);
        if (saves.historyChanged(e)) {
          saves.saveWithPromotions(e);
          if (decide) {
            shared.decided(e);
          }
        }
      } catch (RuntimeException ex) {
        LOG.log(System.Logger.Level.WARNING, "evaluating " + e.name() + " failed", ex);
      }
    }
  }

  /** Applies a manual decision and persists it. Blocking. */
  public Decision promote(String name, String model, String reason) {
    Experiment e = get(name);
    Decision d = e.promote(model, reason);
    saves.saveWithPromotions(e);
    sharing.decided(e); // an operator's decision, taken on any instance, is shared too
    return d;
  }

  public List<Decision> rollback(String name, String model, String reason) {
    Experiment e = get(name);
    List<Decision> d = e.rollback(model, reason);
    saves.save(e);
    sharing.decided(e); // an operator's decision, taken on any instance, is shared too
    return d;
  }

  public Decision stop(String name, String reason) {
    Experiment e = get(name);
    Decision d = e.stop(reason);
    saves.save(e);
    sharing.decided(e); // an operator's decision, taken on any instance, is shared too
    return d;
  }

  /**
   * Persists the feedback store's pending impressions, then every experiment that changed since it
   * was last saved (in that order, so the saved ledgers know every user of the saved impressions).
   * Blocking.
   */
  public void snapshot() {
    if (repository != null) {
      try {
        repository.saveImpressions(feedback.store());
      } catch (IOException | RuntimeException ex) {
        LOG.log(System.Logger.Level.WARNING, "cannot persist pending impressions", ex);
      }
    }
    for (Experiment e : experiments.values()) {
      if (saves.changed(e)) {
        saves.save(e);
      }
    }
  }

  /** Persists everything. Blocking. */
  @Override
  public void close() {
    snapshot();
  }
}
