package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.ConfidenceSequence;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One live experiment: its sticky assignment, per-variant counts, serving windows, shadow agreement,
 * current weights, status and decision history. Thread-safe: counters are updated under the
 * experiment's monitor in O(1); {@link #evaluate} runs the {@link DecisionEngine} and, when decisions
 * are automatic and the experiment runs, applies them.
 */
public final class Experiment {

    /** Lifecycle: only a running experiment takes decisions. */
    public enum Status { RUNNING, PROMOTED, ROLLED_BACK, STOPPED }

    /** Where a request goes. {@code anonymous}: no user id, a random bucket, counted apart. */
    public record Assignment(int variant, String model, Long version, boolean anonymous, int bucket) {
    }

    private static final System.Logger LOG = System.getLogger(Experiment.class.getName());
    static final int MAX_HISTORY = 500;
    static final int DEFAULT_MAX_USERS = 2_000_000;

    private final ExperimentDefinition definition;
    private final StickyAssigner assigner;
    private final Arm[] arms;
    private final double[] weights;
    private final Deque<Decision> history = new ArrayDeque<>();
    private final ExperimentMetrics metrics;
    private final long createdMillis;
    private Status status = Status.RUNNING;
    private DecisionEngine.Evaluation last;
    private long promotedVariant = -1;
    private final java.util.concurrent.atomic.LongAdder changes = new java.util.concurrent.atomic.LongAdder();

    private static final class Arm {
        final UserLedger ledger;
        final ServingWindow window;
        final ShadowAgreement shadow = new ShadowAgreement();
        long srmExposures;
        long anonymousRequests;
        long anonymousImpressions;
        long anonymousClicks;
        volatile Long servedVersion;
        DecisionKind lastDecision = DecisionKind.HOLD;
        int latencyBreaches;

        Arm(int maxUsers, long windowNanos, long now) {
            ledger = new UserLedger(maxUsers);
            window = new ServingWindow(windowNanos, now);
        }
    }

    Experiment(ExperimentDefinition definition, StickyAssigner assigner, double[] weights, long createdMillis,
               ExperimentMetrics metrics, int maxUsers) {
        this.definition = definition;
        this.assigner = assigner;
        this.weights = weights.clone();
        this.createdMillis = createdMillis;
        this.metrics = metrics == null ? ExperimentMetrics.NOOP : metrics;
        long now = System.nanoTime();
        this.arms = new Arm[definition.variants().size()];
        for (int i = 0; i < arms.length; i++) {
            arms[i] = new Arm(maxUsers, TimeUnit.SECONDS.toNanos(definition.windowSeconds()), now);
        }
    }

    /** A new experiment at its configured weights. */
    public static Experiment create(ExperimentDefinition definition, ExperimentMetrics metrics) {
        return create(definition, metrics, DEFAULT_MAX_USERS);
    }

    static Experiment create(ExperimentDefinition definition, ExperimentMetrics metrics, int maxUsers) {
        double[] w = definition.weights();
        return new Experiment(definition, StickyAssigner.create(definition.name(), definition.salt(), w), w,
                System.currentTimeMillis(), metrics, maxUsers);
    }

    public ExperimentDefinition definition() {
        return definition;
    }

    public String name() {
        return definition.name();
    }

    public synchronized Status status() {
        return status;
    }

    /** Assigns a request: sticky for a user id, a random bucket (counted apart) without one. */
    public Assignment assign(String userId) {
        boolean anonymous = userId == null || userId.isEmpty();
        int bucket = anonymous ? assigner.randomBucket() : assigner.bucket(userId);
        int v = assigner.variantOf(bucket);
        ExperimentDefinition.Variant variant = definition.variants().get(v);
        return new Assignment(v, variant.model(), variant.version(), anonymous, bucket);
    }

    /**
     * Records a served request. On success the user's impressions grow by {@code rows} (a first exposure
     * counts towards exposures and SRM); errors count only towards the guardrail window.
     */
    public void recordServed(Assignment a, String userId, int rows, long latencyNanos, boolean ok, Long version) {
        changes.increment();
        Arm arm = arms[a.variant()];
        arm.window.record(latencyNanos, ok);
        if (version != null) {
            arm.servedVersion = version;
        }
        if (!ok) {
            metrics.served(name(), a.model(), false);
            return;
        }
        boolean fresh = false;
        synchronized (this) {
            if (a.anonymous()) {
                arm.anonymousRequests++;
                arm.anonymousImpressions += rows;
            } else {
                fresh = arm.ledger.impression(Murmur3.hash64(userId), rows);
                if (fresh) {
                    arm.srmExposures++;
                }
            }
        }
        metrics.served(name(), a.model(), true);
        metrics.impressions(name(), a.model(), rows, fresh);
    }

    /** Records clicks joined from feedback. Returns false when the user was never exposed to the variant. */
    public boolean recordClicks(int variant, String userId, int clicks) {
        changes.increment();
        Arm arm = arms[variant];
        boolean known;
        synchronized (this) {
            if (userId == null || userId.isEmpty()) {
                arm.anonymousClicks += clicks;
                known = true;
            } else {
                known = arm.ledger.click(Murmur3.hash64(userId), clicks);
            }
        }
        if (known && clicks > 0) {
            metrics.clicks(name(), definition.variants().get(variant).model(), clicks);
        }
        return known;
    }

    /** Adds a shadow comparison of a student's predictions with the teacher's on the same rows. */
    public void recordShadow(int variant, float[] student, float[] teacher) {
        ShadowAgreement agreement = arms[variant].shadow;
        agreement.add(student, teacher);
        metrics.shadow(name(), definition.variants().get(variant).model(), agreement.snapshot());
    }

    /** The decision history, oldest first (bounded). */
    public synchronized List<Decision> history() {
        return new ArrayList<>(history);
    }

    public int teacherIndex() {
        return definition.teacherIndex();
    }

    /** Current weight of a variant. */
    public synchronized double weight(int variant) {
        return weights[variant];
    }

    /** Runs the decision engine; with automatic decisions on and the experiment running, applies them. */
    public synchronized DecisionEngine.Evaluation evaluate() {
        if (status != Status.RUNNING && last != null) {
            return last; // an ended experiment keeps the figures of its final decision
        }
        long now = System.nanoTime();
        DecisionEngine.ArmFigures[] figures = new DecisionEngine.ArmFigures[arms.length];
        for (int i = 0; i < arms.length; i++) {
            Arm a = arms[i];
            figures[i] = new DecisionEngine.ArmFigures(definition.variants().get(i).model(), weights[i],
                    a.ledger.users(), a.ledger.impressions(), a.ledger.clicks(), a.ledger.ratio(),
                    a.ledger.ratioVariance(), a.srmExposures, a.window.snapshot(now), a.latencyBreaches);
        }
        DecisionEngine.Evaluation e = DecisionEngine.evaluate(definition, figures);
        last = e;
        for (int i = 0; i < arms.length; i++) {
            arms[i].latencyBreaches = e.latencyBreach()[i] ? arms[i].latencyBreaches + 1 : 0;
        }
        metrics.srm(name(), e.srmPValue());
        if (status != Status.RUNNING) {
            return e;
        }
        for (int i = 0; i < arms.length; i++) {
            DecisionKind d = e.decisions()[i];
            if (d == DecisionKind.HOLD && arms[i].lastDecision != DecisionKind.HOLD) {
                log(new Decision(System.currentTimeMillis(), DecisionKind.HOLD, figures[i].model(), e.reasons()[i], true,
                        e.numbers()[i]));
            }
            if (d != DecisionKind.TEACHER && d != DecisionKind.INACTIVE) {
                arms[i].lastDecision = d;
            }
        }
        if (definition.auto()) {
            for (int i : e.rollback()) {
                rollbackLocked(i, e.reasons()[i], true, e.numbers()[i]);
            }
            if (e.promote() >= 0 && status == Status.RUNNING) {
                promoteLocked(e.promote(), e.reasons()[e.promote()], true, e.numbers()[e.promote()]);
            }
        }
        return e;
    }

    /** Manual promotion of a student (or the single student when {@code model} is null). */
    public synchronized Decision promote(String model, String reason) {
        int i = studentIndex(model);
        requireRunning("promote");
        return promoteLocked(i, reason == null ? "manual promotion" : reason, false, numbersOf(i));
    }

    /** Manual rollback of one student, or of every student when {@code model} is null. */
    public synchronized List<Decision> rollback(String model, String reason) {
        requireRunning("roll back");
        List<Decision> out = new ArrayList<>();
        String why = reason == null ? "manual rollback" : reason;
        if (model == null) {
            for (int i = 0; i < arms.length; i++) {
                if (i != teacherIndex() && weights[i] > 0) {
                    out.add(rollbackLocked(i, why, false, numbersOf(i)));
                }
            }
        } else {
            out.add(rollbackLocked(studentIndex(model), why, false, numbersOf(studentIndex(model))));
        }
        return out;
    }

    /** Stops the experiment: the teacher serves everything and no more decisions are taken. */
    public synchronized Decision stop(String reason) {
        requireRunning("stop");
        double[] w = new double[weights.length];
        w[teacherIndex()] = 100;
        reweight(w);
        status = Status.STOPPED;
        Decision d = new Decision(System.currentTimeMillis(), DecisionKind.STOP, definition.teacher(),
                reason == null ? "stopped by an operator; the teacher serves all traffic" : reason, false,
                new JsonObject());
        log(d);
        return d;
    }

    private Decision promoteLocked(int i, String reason, boolean automatic, JsonObject numbers) {
        double[] w = new double[weights.length];
        w[i] = 100;
        reweight(w);
        status = Status.PROMOTED;
        promotedVariant = i;
        arms[i].lastDecision = DecisionKind.PROMOTED;
        Decision d = new Decision(System.currentTimeMillis(), DecisionKind.PROMOTE, definition.variants().get(i).model(), reason,
                automatic, numbers);
        log(d);
        return d;
    }

    private Decision rollbackLocked(int i, String reason, boolean automatic, JsonObject numbers) {
        double[] w = weights.clone();
        w[i] = 0;
        reweight(w);
        arms[i].lastDecision = DecisionKind.ROLLED_BACK;
        Decision d = new Decision(System.currentTimeMillis(), DecisionKind.ROLLBACK, definition.variants().get(i).model(), reason,
                automatic, numbers);
        log(d);
        boolean anyStudent = false;
        for (int k = 0; k < weights.length; k++) {
            anyStudent |= k != teacherIndex() && weights[k] > 0;
        }
        if (!anyStudent) {
            status = Status.ROLLED_BACK;
        }
        return d;
    }

    /** New weights; SRM restarts counting because the expected split changed. */
    private void reweight(double[] w) {
        assigner.reweight(w);
        System.arraycopy(w, 0, weights, 0, w.length);
        for (Arm a : arms) {
            a.srmExposures = 0;
        }
    }

    /** A counter that moves whenever the persisted state may have changed. */
    long changes() {
        return changes.sum();
    }

    private void log(Decision d) {
        LOG.log(d.action() == DecisionKind.HOLD ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
                "experiment {0}: {1} {2} ({3}, {4}) {5}", name(), d.action().label(), d.variant(),
                d.automatic() ? "automatic" : "manual", d.reason(), d.numbers().encode());
        changes.increment();
        history.addLast(d);
        while (history.size() > MAX_HISTORY) {
            history.removeFirst();
        }
        metrics.decision(name(), d.variant(), d.action().label());
    }

    private JsonObject numbersOf(int i) {
        return last == null || last.numbers()[i] == null ? new JsonObject() : last.numbers()[i].copy();
    }

    private int studentIndex(String model) {
        int teacher = teacherIndex();
        if (model == null) {
            int found = -1;
            for (int i = 0; i < arms.length; i++) {
                if (i != teacher && weights[i] > 0) {
                    if (found >= 0) {
                        throw new IllegalArgumentException("model: missing (expected: which student, one of "
                                + studentNames() + ")");
                    }
                    found = i;
                }
            }
            if (found < 0) {
                throw new IllegalStateException("experiment '" + name() + "' has no active student");
            }
            return found;
        }
        for (int i = 0; i < arms.length; i++) {
            if (definition.variants().get(i).model().equals(model)) {
                if (i == teacher) {
                    throw new IllegalArgumentException("model: '" + model + "' is the teacher (expected: a student, one of "
                            + studentNames() + ")");
                }
                return i;
            }
        }
        throw new UnknownVariantException("experiment '" + name() + "' has no variant '" + model + "' (expected: one of "
                + studentNames() + ")");
    }

    private List<String> studentNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < arms.length; i++) {
            if (i != teacherIndex()) {
                names.add(definition.variants().get(i).model());
            }
        }
        return names;
    }

    private void requireRunning(String what) {
        if (status != Status.RUNNING) {
            throw new IllegalStateException("cannot " + what + " experiment '" + name() + "': it is "
                    + status.name().toLowerCase());
        }
    }

    /** The API view: definition, live statistics per variant, SRM and history. */
    public synchronized JsonObject toJson() {
        if (last == null) {
            evaluateWithoutApplying();
        }
        JsonArray variants = new JsonArray();
        ConfidenceSequence test = new ConfidenceSequence(definition.alpha(), definition.plannedUsers());
        long now = System.nanoTime();
        for (int i = 0; i < arms.length; i++) {
            Arm a = arms[i];
            ExperimentDefinition.Variant v = definition.variants().get(i);
            ServingWindow.Snapshot w = a.window.snapshot(now);
            ConfidenceSequence.Result ci = test.compare(a.ledger.ratio(), a.ledger.ratioVariance(), 0, 0, 0,
                    a.ledger.users());
            Long version = v.version() != null ? v.version() : a.servedVersion;
            ShadowAgreement.Snapshot sh = a.shadow.snapshot();
            variants.add(new JsonObject()
                    .put("model", v.model())
                    .put("version", version == null ? null : String.valueOf(version))
                    .put("role", i == teacherIndex() ? "teacher" : "student")
                    .put("weight", weights[i])
                    .put("slots", assigner.slots(i))
                    .put("exposures", a.ledger.users())
                    .put("impressions", a.ledger.impressions())
                    .put("clicks", a.ledger.clicks())
                    .put("ctr", a.ledger.ratio())
                    .put("ctr_ci", DecisionEngine.array(ci.lower(), ci.upper()))
                    .put("p50_seconds", DecisionEngine.finite(w.p50Seconds()))
                    .put("p99_seconds", DecisionEngine.finite(w.p99Seconds()))
                    .put("error_rate", w.errorRate())
                    .put("window_requests", w.requests())
                    .put("anonymous", new JsonObject().put("requests", a.anonymousRequests)
                            .put("impressions", a.anonymousImpressions).put("clicks", a.anonymousClicks))
                    .put("untracked_users", a.ledger.untracked())
                    .put("shadow", new JsonObject().put("rows", sh.rows())
                            .put("mean_abs_diff", DecisionEngine.finite(sh.meanAbsDiff()))
                            .put("rank_agreement", DecisionEngine.finite(sh.rankAgreement()))
                            .put("mean_ratio", DecisionEngine.finite(sh.meanRatio())))
                    .put("decision", displayDecision(i))
                    .put("reason", last.reasons()[i])
                    .put("numbers", last.numbers()[i]));
        }
        JsonArray h = new JsonArray();
        history.forEach(d -> h.add(d.toJson()));
        long[] observed = new long[arms.length];
        for (int i = 0; i < arms.length; i++) {
            observed[i] = arms[i].srmExposures;
        }
        return new JsonObject()
                .put("name", name())
                .put("status", status.name().toLowerCase())
                .put("teacher", definition.teacher())
                .put("created", createdMillis)
                .put("variants", variants)
                .put("srm", new JsonObject().put("p_value", last.srmPValue()).put("alarm", last.srmAlarm())
                        .put("threshold", DecisionEngine.SRM_ALPHA).put("observed", new JsonArray(toList(observed))))
                .put("definition", definition.toJson())
                .put("history", h);
    }

    private String displayDecision(int i) {
        if (i == teacherIndex()) {
            return (status == Status.PROMOTED ? DecisionKind.REPLACED : DecisionKind.TEACHER).label();
        }
        DecisionKind d = arms[i].lastDecision;
        if (status != Status.RUNNING && d != DecisionKind.PROMOTED && d != DecisionKind.ROLLED_BACK) {
            return status.name().toLowerCase();
        }
        return (weights[i] <= 0 && d != DecisionKind.ROLLED_BACK ? DecisionKind.INACTIVE : d).label();
    }

    private void evaluateWithoutApplying() {
        long now = System.nanoTime();
        DecisionEngine.ArmFigures[] figures = new DecisionEngine.ArmFigures[arms.length];
        for (int i = 0; i < arms.length; i++) {
            Arm a = arms[i];
            figures[i] = new DecisionEngine.ArmFigures(definition.variants().get(i).model(), weights[i],
                    a.ledger.users(), a.ledger.impressions(), a.ledger.clicks(), a.ledger.ratio(),
                    a.ledger.ratioVariance(), a.srmExposures, a.window.snapshot(now), a.latencyBreaches);
        }
        last = DecisionEngine.evaluate(definition, figures);
    }

    private static List<Object> toList(long[] values) {
        List<Object> l = new ArrayList<>();
        for (long v : values) {
            l.add(v);
        }
        return l;
    }

    // ---- persistence -------------------------------------------------------------------------------

    /** Everything but the per-user ledgers, as JSON. */
    synchronized JsonObject stateJson() {
        JsonArray arr = new JsonArray();
        for (int i = 0; i < arms.length; i++) {
            Arm a = arms[i];
            JsonArray ranges = new JsonArray();
            for (int[] r : assigner.ranges(i)) {
                ranges.add(new JsonArray().add(r[0]).add(r[1]));
            }
            JsonArray shadow = new JsonArray();
            for (double d : a.shadow.sums()) {
                shadow.add(d);
            }
            arr.add(new JsonObject().put("weight", weights[i]).put("slots", ranges)
                    .put("srm_exposures", a.srmExposures).put("anonymous_requests", a.anonymousRequests)
                    .put("anonymous_impressions", a.anonymousImpressions).put("anonymous_clicks", a.anonymousClicks)
                    .put("served_version", a.servedVersion).put("last_decision", a.lastDecision.label())
                    .put("shadow", shadow));
        }
        JsonArray h = new JsonArray();
        history.forEach(d -> h.add(d.toJson()));
        return new JsonObject().put("format", 1).put("definition", definition.toJson())
                .put("status", status.name()).put("created", createdMillis).put("arms", arr).put("history", h);
    }

    synchronized void writeLedgers(DataOutputStream out) throws IOException {
        out.writeInt(arms.length);
        for (Arm a : arms) {
            a.ledger.writeTo(out);
        }
    }

    /** Rebuilds an experiment from {@link #stateJson} and, when present, its ledgers. */
    static Experiment restore(JsonObject state, DataInputStream ledgers, ExperimentMetrics metrics, int maxUsers)
            throws IOException {
        ExperimentDefinition def = ExperimentDefinition.fromJson(state.getJsonObject("definition"));
        JsonArray arr = state.getJsonArray("arms");
        List<List<int[]>> ranges = new ArrayList<>();
        double[] w = new double[arr.size()];
        for (int i = 0; i < arr.size(); i++) {
            JsonObject a = arr.getJsonObject(i);
            w[i] = a.getDouble("weight");
            List<int[]> rs = new ArrayList<>();
            for (Object r : a.getJsonArray("slots")) {
                JsonArray pair = (JsonArray) r;
                rs.add(new int[] {pair.getInteger(0), pair.getInteger(1)});
            }
            ranges.add(rs);
        }
        Experiment e = new Experiment(def, StickyAssigner.restore(def.name(), def.salt(), ranges), w,
                state.getLong("created", System.currentTimeMillis()), metrics, maxUsers);
        e.status = Status.valueOf(state.getString("status", "RUNNING"));
        for (int i = 0; i < arr.size(); i++) {
            JsonObject a = arr.getJsonObject(i);
            Arm arm = e.arms[i];
            arm.srmExposures = a.getLong("srm_exposures", 0L);
            arm.anonymousRequests = a.getLong("anonymous_requests", 0L);
            arm.anonymousImpressions = a.getLong("anonymous_impressions", 0L);
            arm.anonymousClicks = a.getLong("anonymous_clicks", 0L);
            arm.servedVersion = a.getLong("served_version");
            arm.lastDecision = DecisionKind.parse(a.getString("last_decision", DecisionKind.HOLD.label()));
            JsonArray s = a.getJsonArray("shadow");
            if (s != null && s.size() == 6) {
                arm.shadow.restore(s.getDouble(0).longValue(), s.getDouble(1), s.getDouble(2), s.getDouble(3),
                        s.getDouble(4).longValue(), s.getDouble(5).longValue());
            }
        }
        for (Object d : state.getJsonArray("history", new JsonArray())) {
            e.history.addLast(Decision.fromJson((JsonObject) d));
        }
        if (ledgers != null) {
            int n = ledgers.readInt();
            if (n != e.arms.length) {
                throw new IOException("ledger file has " + n + " arms (expected: " + e.arms.length + ")");
            }
            for (Arm arm : e.arms) {
                arm.ledger.readFrom(ledgers);
            }
        }
        return e;
    }
}
