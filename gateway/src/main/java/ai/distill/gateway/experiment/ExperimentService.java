package ai.distill.gateway.experiment;

import ai.distill.gateway.capture.CaptureMetrics;
import ai.distill.gateway.capture.CaptureRecord;
import ai.distill.gateway.capture.CaptureWriter;
import ai.distill.gateway.capture.CapturedTensor;
import ai.distill.gateway.capture.TrafficCapture;
import ai.distill.gateway.feedback.FeedbackOutcome;
import ai.distill.gateway.feedback.FeedbackMetrics;
import ai.distill.gateway.feedback.FeedbackStore;
import ai.distill.gateway.feedback.Impression;
import ai.distill.gateway.protocol.InferRequest;
import ai.distill.gateway.protocol.Tensor;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;

/**
 * The experiment engine behind the HTTP routes: creates and restores experiments, routes requests
 * through them (sticky assignment, then the variant's model), remembers impressions for click feedback,
 * captures sampled traffic, shadow-scores student traffic and runs the decision engine. Vert.x-agnostic;
 * {@link ExperimentRoutes} wires it to a router and timers. Thread-safe; {@link #evaluateAll},
 * {@link #snapshot} and {@link #close} touch the disk and belong on a worker thread.
 *
 * <pre>{@code
 * ExperimentService s = new ExperimentService(new RegistryInvoker(models, store), store, shadowExecutor,
 *     ExperimentService.Options.DEFAULT, ExperimentMetrics.register(registry), CaptureMetrics.register(registry));
 * s.start();
 * s.create(ExperimentJson.definition(body));
 * s.infer("ctr-ab", request).onSuccess(routed -> ...);
 * }</pre>
 */
public final class ExperimentService implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ExperimentService.class.getName());

    /**
     * Bounds and defaults.
     *
     * @param modelCaptureRates capture share of plain (non-experiment) model traffic, per model name
     * @param modelAttributionWindowSeconds how long plain model responses accept feedback (label capture)
     */
    public record Options(int maxUsersPerVariant, int maxFeedbackEntries, int maxPendingCaptures,
                          CaptureWriter.Limits captureLimits, int shadowMaxInFlight,
                          Map<String, Double> modelCaptureRates, long modelAttributionWindowSeconds) {
        public static final Options DEFAULT = new Options(Experiment.DEFAULT_MAX_USERS, 1_000_000, 100_000,
                CaptureWriter.Limits.DEFAULT, 64, Map.of(), 600);

        public Options {
            modelCaptureRates = Map.copyOf(modelCaptureRates);
        }

        public Options withModelCaptureRates(Map<String, Double> rates) {
            return new Options(maxUsersPerVariant, maxFeedbackEntries, maxPendingCaptures, captureLimits,
                    shadowMaxInFlight, rates, modelAttributionWindowSeconds);
        }

        public Options withCaptureLimits(CaptureWriter.Limits limits) {
            return new Options(maxUsersPerVariant, maxFeedbackEntries, maxPendingCaptures, limits,
                    shadowMaxInFlight, modelCaptureRates, modelAttributionWindowSeconds);
        }

        public Options withShadowMaxInFlight(int n) {
            return new Options(maxUsersPerVariant, maxFeedbackEntries, maxPendingCaptures, captureLimits, n,
                    modelCaptureRates, modelAttributionWindowSeconds);
        }
    }

    /** A request served through an experiment. */
    public record Routed(String experiment, String model, long version, String id, List<Tensor> outputs,
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
    private final FeedbackMetrics feedbackMetrics;
    private final FeedbackStore feedback;
    private final TrafficCapture capture;
    private final ShadowScorer shadow;
    private final Map<String, Experiment> experiments = new ConcurrentSkipListMap<>();
    private final Map<String, Integer> savedHistory = new ConcurrentHashMap<>();
    private final Map<String, Double> modelCaptureRates = new ConcurrentHashMap<>();
    private final Map<String, Long> savedChanges = new ConcurrentHashMap<>();

    /**
     * @param storeRoot the store's root (experiments and captures live under it), or null to keep
     *                  nothing on disk (no persistence, no capture)
     */
    public ExperimentService(VariantInvoker invoker, Path storeRoot, Executor shadowDispatch, Options options,
                             ExperimentMetrics metrics, CaptureMetrics captureMetrics, FeedbackMetrics feedbackMetrics) {
        this.invoker = invoker;
        this.options = options;
        this.metrics = metrics == null ? ExperimentMetrics.NOOP : metrics;
        this.feedbackMetrics = feedbackMetrics == null ? FeedbackMetrics.NOOP : feedbackMetrics;
        this.repository = storeRoot == null ? null : new ExperimentRepository(storeRoot.resolve("experiments"));
        this.capture = storeRoot == null ? null : new TrafficCapture(storeRoot.resolve("captures"),
                options.captureLimits(), options.maxPendingCaptures(), captureMetrics, System::currentTimeMillis);
        this.feedback = new FeedbackStore(options.maxFeedbackEntries(), System::currentTimeMillis);
        this.shadow = new ShadowScorer(invoker, shadowDispatch, options.shadowMaxInFlight(), this.metrics);
        this.modelCaptureRates.putAll(options.modelCaptureRates());
    }

    /** Sets the capture share of a model's plain traffic (0 stops capturing it). */
    public void captureRate(String model, double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: 0 <= rate <= 1)");
        }
        if (rate == 0) {
            modelCaptureRates.remove(model);
        } else {
            modelCaptureRates.put(model, rate);
        }
    }

    /** Capture shares of plain model traffic, by model. */
    public Map<String, Double> captureRates() {
        return Map.copyOf(modelCaptureRates);
    }

    /** Restores persisted experiments and starts the capture writer. Blocking. */
    public List<String> start() {
        List<String> errors = new ArrayList<>();
        if (repository != null) {
            List<ExperimentDefinition> definitions = new ArrayList<>();
            for (Experiment e : repository.loadAll(metrics, options.maxUsersPerVariant(), errors, definitions)) {
                experiments.put(e.name(), e);
                savedHistory.put(e.name(), historySize(e));
                savedChanges.put(e.name(), e.changes());
                LOG.log(System.Logger.Level.INFO, "resumed experiment {0} ({1})", e.name(), e.status());
            }
            for (ExperimentDefinition d : definitions) {
                try {
                    create(d);
                    LOG.log(System.Logger.Level.INFO, "created experiment {0} from its definition file", d.name());
                } catch (RuntimeException ex) {
                    errors.add(d.name() + ".json: " + ex.getMessage());
                }
            }
        }
        errors.forEach(err -> LOG.log(System.Logger.Level.WARNING, "experiment not resumed: {0}", err));
        if (capture != null) {
            capture.start();
        }
        return errors;
    }

    public ShadowScorer shadow() {
        return shadow;
    }

    public FeedbackStore feedbackStore() {
        return feedback;
    }

    /** The capture pipeline, or null without a store. */
    public TrafficCapture capture() {
        return capture;
    }

    public boolean isExperiment(String name) {
        return experiments.containsKey(name);
    }

    /** The experiment, or throws {@link UnknownVariantException} (HTTP 404). */
    public Experiment get(String name) {
        Experiment e = experiments.get(name);
        if (e == null) {
            throw new UnknownVariantException("experiment '" + name + "' does not exist (experiments: "
                    + experiments.keySet() + ")");
        }
        return e;
    }

    public List<Experiment> list() {
        return new ArrayList<>(experiments.values());
    }

    /** The signature a request to this experiment must match: the teacher's. Null when it is not loaded. */
    public VariantInvoker.Signature signature(String experiment) {
        Experiment e = get(experiment);
        ExperimentDefinition.Variant t = e.definition().variants().get(e.teacherIndex());
        return invoker.signature(t.model(), t.version());
    }

    /**
     * Creates an experiment after checking it against the models: the name must not be a model's
     * ({@link ExperimentConflictException}), every variant must be loaded and have the teacher's
     * signature ({@link IllegalArgumentException}). Persists it (blocking).
     */
    public Experiment create(ExperimentDefinition def) {
        if (invoker.isModel(def.name())) {
            throw new ExperimentConflictException("name: '" + def.name() + "' is already a model (expected: a name "
                    + "that no model uses, since experiments are served at /v2/models/{name}/infer)");
        }
        ExperimentDefinition.Variant teacher = def.variants().get(def.teacherIndex());
        VariantInvoker.Signature reference = invoker.signature(teacher.model(), teacher.version());
        if (reference == null) {
            throw new IllegalArgumentException("teacher: model '" + teacher.model() + "'"
                    + (teacher.version() == null ? "" : " version " + teacher.version())
                    + " is not loaded (expected: a loaded model; load it first)");
        }
        for (int i = 0; i < def.variants().size(); i++) {
            ExperimentDefinition.Variant v = def.variants().get(i);
            VariantInvoker.Signature s = invoker.signature(v.model(), v.version());
            if (s == null) {
                throw new IllegalArgumentException("variants[" + i + "].model: '" + v.model() + "'"
                        + (v.version() == null ? "" : " version " + v.version())
                        + " is not loaded (expected: a loaded model; load it first)");
            }
            if (!s.equals(reference)) {
                throw new IllegalArgumentException("variants[" + i + "].model: '" + v.model() + "' has signature "
                        + describe(s) + " (expected: the teacher's " + describe(reference) + ")");
            }
        }
        Experiment e = Experiment.create(def, metrics, options.maxUsersPerVariant());
        if (experiments.putIfAbsent(def.name(), e) != null) {
            throw new ExperimentConflictException("name: experiment '" + def.name() + "' already exists "
                    + "(expected: a new name, or stop the existing one first)");
        }
        save(e);
        return e;
    }

    private static String describe(VariantInvoker.Signature s) {
        return "inputs " + s.inputs() + ", outputs " + s.outputs();
    }

    /** An assignment made for one request, carried from {@link #select} to {@link #completed}. */
    public record Selection(Experiment experiment, Experiment.Assignment assignment, String userId) {
    }

    /**
     * Assigns a request to a variant: sticky for {@code parameters.user_id}, a random bucket (counted apart)
     * without one. Throws {@link UnknownVariantException} for an unknown experiment. Non-blocking.
     */
    public Selection select(String name, InferRequest request) {
        Experiment e = get(name);
        String user = userId(request.parameters());
        return new Selection(e, e.assign(user), user);
    }

    /**
     * Records the outcome of a selected request: latency and errors for the guardrails, impressions for the
     * statistics, the impression for click feedback; then, off the response path, capture and shadow
     * scoring. Non-blocking; never throws.
     *
     * @return the routing summary on success, null on failure
     */
    public Routed completed(Selection s, InferRequest request, String id, long version, List<Tensor> outputs,
                            long latencyNanos, Throwable failure) {
        Experiment e = s.experiment();
        Experiment.Assignment a = s.assignment();
        int rows = (int) request.rows();
        if (failure != null) {
            e.recordServed(a, s.userId(), rows, latencyNanos, false, null);
            return null;
        }
        e.recordServed(a, s.userId(), rows, latencyNanos, true, version);
        try {
            long deadline = System.currentTimeMillis() + e.definition().attributionWindowSeconds() * 1000;
            remember(new Impression(id, e.name(), a.variant(), a.model(), s.userId(), rows, deadline));
            boolean captured = capture != null && TrafficCapture.sample(e.definition().captureRate())
                    && capture.capture(new CaptureRecord(e.name(), System.currentTimeMillis(), a.model(), a.model(),
                    version, id, copies(request.inputs()), copies(outputs), null, null), deadline);
            shadow.maybeScore(e, a.variant(), request, outputs,
                    captured ? teacher -> capture.teacherOutputs(id, copies(teacher)) : null);
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "experiment bookkeeping failed for " + e.name(), ex);
        }
        return new Routed(e.name(), a.model(), version, id, outputs, a.anonymous());
    }

    /** Serves a request through an experiment without HTTP: {@link #select}, the variant's model, {@link #completed}. */
    public Future<Routed> infer(String name, InferRequest request) {
        Selection s;
        try {
            s = select(name, request);
        } catch (UnknownVariantException ex) {
            return Future.failedFuture(ex);
        }
        String id = request.id() != null && !request.id().isEmpty() ? request.id() : UUID.randomUUID().toString();
        long start = System.nanoTime();
        return invoker.infer(s.assignment().model(), s.assignment().version(), request).transform(ar -> {
            long latency = System.nanoTime() - start;
            if (ar.failed()) {
                completed(s, request, id, -1, null, latency, ar.cause());
                return Future.failedFuture(ar.cause());
            }
            VariantInvoker.Served served = ar.result();
            return Future.succeededFuture(completed(s, request, id, served.version(), served.outputs(), latency, null));
        });
    }

    /**
     * Off the response path of a plain model request: captures it at the model's configured rate and, when
     * captured, remembers it so click feedback labels the rows. Never throws.
     */
    public void observeModel(String model, long version, String id, InferRequest request, List<Tensor> outputs) {
        Double rate = modelCaptureRates.get(model);
        if (capture == null || rate == null || id == null || !TrafficCapture.sample(rate)) {
            return;
        }
        try {
            long deadline = System.currentTimeMillis() + options.modelAttributionWindowSeconds() * 1000;
            int rows = (int) request.rows();
            remember(new Impression(id, null, -1, model, userId(request.parameters()), rows, deadline));
            capture.capture(new CaptureRecord(model, System.currentTimeMillis(), model, model, version, id,
                    copies(request.inputs()), copies(outputs), null, null), deadline);
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.DEBUG, "capture skipped: {0}", ex.toString());
        }
    }

    private void remember(Impression impression) {
        if (feedback.remember(impression)) {
            feedbackMetrics.idCollision();
            LOG.log(System.Logger.Level.WARNING, "response id ''{0}'' ({1}) was already the id of another live "
                    + "response: feedback for it will be refused as ambiguous (clients must send unique ids, "
                    + "or none)", impression.id(), impression.experiment() != null ? impression.experiment()
                    : impression.model());
        }
    }

    /** Joins click feedback; the outcome says which HTTP status to answer. */
    public FeedbackOutcome feedback(String id, int[] clicks) {
        FeedbackOutcome o = feedback.join(id, clicks);
        if (o instanceof FeedbackOutcome.Joined j) {
            Impression i = j.impression();
            int sum = 0;
            for (int c : clicks) {
                sum += c;
            }
            if (i.experiment() != null) {
                Experiment e = experiments.get(i.experiment());
                if (e != null) {
                    e.recordClicks(i.variant(), i.userId(), sum);
                }
            }
            if (capture != null) {
                capture.label(id, clicks);
            }
        }
        feedbackMetrics.outcome(o.label());
        return o;
    }

    /** Runs every experiment's decision engine; persists those whose history changed. Blocking. */
    public void evaluateAll() {
        for (Experiment e : experiments.values()) {
            try {
                e.evaluate();
                int h = historySize(e);
                if (savedHistory.getOrDefault(e.name(), 0) != h) {
                    recordPromotions(e);
                    save(e);
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
        recordPromotions(e);
        save(e);
        return d;
    }

    public List<Decision> rollback(String name, String model, String reason) {
        Experiment e = get(name);
        List<Decision> d = e.rollback(model, reason);
        save(e);
        return d;
    }

    public Decision stop(String name, String reason) {
        Experiment e = get(name);
        Decision d = e.stop(reason);
        save(e);
        return d;
    }

    /** Persists every experiment that changed since it was last saved. Blocking. */
    public void snapshot() {
        for (Experiment e : experiments.values()) {
            if (e.changes() != savedChanges.getOrDefault(e.name(), -1L)) {
                save(e);
            }
        }
    }

    /** Persists everything and flushes the capture (pending rows are written unlabelled). Blocking. */
    @Override
    public void close() {
        snapshot();
        if (capture != null) {
            capture.close();
        }
    }

    private void recordPromotions(Experiment e) {
        if (repository == null) {
            return;
        }
        int saved = savedHistory.getOrDefault(e.name(), 0);
        List<Decision> history = e.history();
        for (int i = Math.min(saved, history.size()); i < history.size(); i++) {
            Decision d = history.get(i);
            if (d.action() == DecisionKind.PROMOTE) {
                try {
                    repository.recordPromotion(e, d);
                } catch (IOException ex) {
                    LOG.log(System.Logger.Level.WARNING, "cannot record promotion of " + d.variant(), ex);
                }
            }
        }
    }

    private void save(Experiment e) {
        int h = historySize(e);
        long changes = e.changes();
        if (repository != null) {
            try {
                repository.save(e);
            } catch (IOException ex) {
                LOG.log(System.Logger.Level.WARNING, "cannot persist experiment " + e.name(), ex);
                return;
            }
        }
        savedHistory.put(e.name(), h);
        savedChanges.put(e.name(), changes);
    }

    private static int historySize(Experiment e) {
        return e.history().size();
    }

    /** {@code parameters.user_id} as a string (numbers accepted), or null. */
    static String userId(Map<String, Object> parameters) {
        Object u = parameters.get("user_id");
        if (u == null) {
            return null;
        }
        String s = String.valueOf(u);
        return s.isEmpty() ? null : s;
    }

    private static List<CapturedTensor> copies(List<Tensor> tensors) {
        List<CapturedTensor> out = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) {
            out.add(CapturedTensor.copyOf(t));
        }
        return out;
    }
}
