package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.LatencyGuardrail;
import ai.distill.gateway.experiment.stats.SequentialSrm;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One live experiment: its sticky assignment, per-variant counts, model outcomes (successes, model
 * errors, load shedding), latency guardrails on model cost, the sequential SRM test, shadow
 * agreement, current weights, status and decision history. Thread-safe: counters are updated under
 * the experiment's monitor in O(1); {@link #evaluate} runs the {@link DecisionEngine} at a time the
 * caller gives and, when decisions are automatic and the experiment runs, applies them. Counting
 * only: {@link ExperimentJson} renders and restores it, {@link ExperimentRepository} persists it.
 */
public final class Experiment {

  /** Lifecycle: only a running experiment takes decisions. */
  public enum Status {
    RUNNING,
    PROMOTED,
    ROLLED_BACK,
    STOPPED
  }

  /** Where a request goes. {@code anonymous}: no user id, a random bucket, counted apart. */
  public record Assignment(
      int variant, String model, Long version, boolean anonymous, int bucket) {}

  private static final System.Logger LOG = System.getLogger(Experiment.class.getName());
  static final int MAX_HISTORY = 500;
  static final int DEFAULT_MAX_USERS = 2_000_000;

  private final ExperimentDefinition definition;
  private final StickyAssigner assigner;
  private final Arm[] arms;
  private final double[] weights;
  private final DecisionHistory history;
  private final ExperimentMetrics metrics;
  private final long createdMillis;
  private Status status = Status.RUNNING;
  private DecisionEngine.Evaluation last;
  private final int maxUsers;
  private SequentialSrm srm = new SequentialSrm();
  private boolean frozenLogged;
  private final java.util.concurrent.atomic.LongAdder changes =
      new java.util.concurrent.atomic.LongAdder();

  Experiment(
      ExperimentDefinition definition,
      StickyAssigner assigner,
      double[] weights,
      long createdMillis,
      ExperimentMetrics metrics,
      int maxUsers) {
    this.definition = definition;
    this.assigner = assigner;
    this.weights = weights.clone();
    this.createdMillis = createdMillis;
    this.metrics = metrics == null ? ExperimentMetrics.NOOP : metrics;
    this.history = new DecisionHistory(definition.name(), this.metrics);
    this.maxUsers = maxUsers;
    long now = System.nanoTime(); // the displayed end-to-end windows only
    this.arms = new Arm[definition.variants().size()];
    LatencyGuardrail.Config latencyConfig = Arm.latencyConfig(definition);
    for (int i = 0; i < arms.length; i++) {
      arms[i] = new Arm(maxUsers, TimeUnit.SECONDS.toNanos(definition.windowSeconds()), now);
      if (i != definition.teacherIndex()) {
        arms[i].latency = new LatencyGuardrail(latencyConfig);
      }
    }
  }

  /** A new experiment at its configured weights. */
  public static Experiment create(ExperimentDefinition definition, ExperimentMetrics metrics) {
    return create(definition, metrics, DEFAULT_MAX_USERS);
  }

  static Experiment create(
      ExperimentDefinition definition, ExperimentMetrics metrics, int maxUsers) {
    double[] w = definition.weights();
    return new Experiment(
        definition,
        StickyAssigner.create(definition.name(), definition.salt(), w),
        w,
        System.currentTimeMillis(),
        metrics,
        maxUsers);
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
   * Records a request routed by this experiment. {@code costNanos} is what the model itself cost it
   * (queue wait + batch compute): it feeds the latency guardrails (a teacher's cost feeds every
   * student's); {@code latencyNanos} (end to end) is only shown. On success the user's impressions
   * grow by {@code rows} (a first exposure counts towards exposures and SRM, unless a ledger is
   * full); a model error or a shed request counts towards the error guardrail's figures only, a
   * client error towards nothing.
   */
  public void recordServed(
      Assignment a,
      String userId,
      int rows,
      RequestOutcome outcome,
      long latencyNanos,
      long costNanos,
      Long version) {
    changes.increment();
    Arm arm = arms[a.variant()];
    if (version != null && outcome == RequestOutcome.OK) {
      arm.servedVersion = version;
    }
    metrics.served(name(), a.model(), outcome.label());
    if (outcome != RequestOutcome.OK) {
      synchronized (this) {
        switch (outcome) {
          case MODEL_ERROR -> arm.modelErrors++;
          case SHED -> arm.shed++;
          default -> arm.clientErrors++;
        }
      }
      return;
    }
    arm.window.record(latencyNanos, true);
    arm.cost.record(costNanos, true);
    boolean fresh = false;
    synchronized (this) {
      arm.successes++;
      long cost = Math.max(0, costNanos);
      if (arm.latency != null) {
        arm.latency.recordStudent(cost);
      } else {
        for (Arm other : arms) {
          if (other.latency != null) {
            other.latency.recordTeacher(cost);
          }
        }
      }
      if (a.anonymous()) {
        arm.anonymousRequests++;
        arm.anonymousImpressions += rows;
      } else {
        long user = Murmur3.hash64(userId);
        if (ledgerCapped() && !arm.ledger.contains(user)) {
          // Once any arm's ledger is full, no arm takes new users, so exposures stay comparable
          // across arms (and SRM is not fed by the order in which ledgers fill).
          arm.cappedRequests++;
        } else {
          fresh = arm.ledger.impression(user, rows);
          if (fresh) {
            arm.srmExposures++;
          }
        }
      }
    }
    metrics.impressions(name(), a.model(), rows, fresh);
  }

  /** True once any arm's ledger is full: from then on no arm counts new users. */
  synchronized boolean ledgerCapped() {
    for (Arm arm : arms) {
      if (arm.ledger.users() >= maxUsers) {
        return true;
      }
    }
    return false;
  }

  /**
   * Records clicks joined from feedback. Returns false when the user was never exposed to the
   * variant.
   */
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
    return history.list();
  }

  public int teacherIndex() {
    return definition.teacherIndex();
  }

  /** Current weight of a variant. */
  public synchronized double weight(int variant) {
    return weights[variant];
  }

  /** {@link #evaluate(long, boolean)} on the instance that decides. */
  public DecisionEngine.Evaluation evaluate(long nowMillis) {
    return evaluate(nowMillis, true);
  }

  /**
   * Runs the decision engine at {@code nowMillis} (the caller's clock; history entries carry it);
   * with automatic decisions on, the experiment running and {@code decide} (false: another instance
   * decides, only the figures are refreshed), applies them. An SRM alarm freezes decisions: it is
   * logged once, and nothing is promoted or rolled back on CTR until a person acts; a confirmed
   * guardrail failure still rolls back.
   */
  public synchronized DecisionEngine.Evaluation evaluate(long nowMillis, boolean decide) {
    if (status != Status.RUNNING && last != null) {
      return last; // an ended experiment keeps the figures of its final decision
    }
    DecisionEngine.ArmFigures[] figures = Arm.figures(definition, weights, arms);
    DecisionEngine.Evaluation e =
        DecisionEngine.evaluate(
            definition, figures, Arm.readSrm(srm, arms, weights), ledgerCapped());
    last = e;
    metrics.evaluated(name(), figures, e, teacherIndex());
    if (status != Status.RUNNING || !decide) {
      return e;
    }
    if (e.srmAlarm() && !frozenLogged) {
      frozenLogged = true;
      LOG.log(
          System.Logger.Level.WARNING,
          "experiment {0}: SRM alarm, decisions frozen until a person acts: {1}",
          name(),
          DecisionEngine.frozenReason(e.srm(), e.srmPValue()));
      log(DecisionEngine.frozen(nowMillis, definition, e, Arm.srmCounts(arms)));
    }
    for (int i = 0; i < arms.length; i++) {
      DecisionKind d = e.decisions()[i];
      if (d == DecisionKind.HOLD && arms[i].lastDecision != DecisionKind.HOLD) {
        log(
            new Decision(
                nowMillis,
                DecisionKind.HOLD,
                figures[i].model(),
                e.reasons()[i],
                true,
                e.numbers()[i]));
      }
      if (d != DecisionKind.TEACHER && d != DecisionKind.INACTIVE) {
        arms[i].lastDecision = d;
      }
    }
    if (definition.auto()) {
      for (int i : e.rollback()) {
        rollbackLocked(i, e.reasons()[i], true, e.numbers()[i], nowMillis);
      }
      if (e.promote() >= 0 && status == Status.RUNNING) {
        promoteLocked(
            e.promote(), e.reasons()[e.promote()], true, e.numbers()[e.promote()], nowMillis);
      }
    }
    return e;
  }

  /** Manual promotion of a student (or the single student when {@code model} is null). */
  public synchronized Decision promote(String model, String reason) {
    int i = StudentLookup.index(definition, weights, model);
    requireRunning("promote");
    return promoteLocked(
        i,
        reason == null ? "manual promotion" : reason,
        false,
        numbersOf(i),
        System.currentTimeMillis());
  }

  /** Manual rollback of one student, or of every student when {@code model} is null. */
  public synchronized List<Decision> rollback(String model, String reason) {
    requireRunning("roll back");
    List<Decision> out = new ArrayList<>();
    String why = reason == null ? "manual rollback" : reason;
    if (model == null) {
      for (int i = 0; i < arms.length; i++) {
        if (i != teacherIndex() && weights[i] > 0) {
          out.add(rollbackLocked(i, why, false, numbersOf(i), System.currentTimeMillis()));
        }
      }
    } else {
      int i = StudentLookup.index(definition, weights, model);
      out.add(rollbackLocked(i, why, false, numbersOf(i), System.currentTimeMillis()));
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
    Decision d =
        new Decision(
            System.currentTimeMillis(),
            DecisionKind.STOP,
            definition.teacher(),
            reason == null ? "stopped by an operator; the teacher serves all traffic" : reason,
            false,
            new JsonObject());
    log(d);
    return d;
  }

  private Decision promoteLocked(
      int i, String reason, boolean automatic, JsonObject numbers, long nowMillis) {
    double[] w = new double[weights.length];
    w[i] = 100;
    reweight(w);
    status = Status.PROMOTED;
    arms[i].lastDecision = DecisionKind.PROMOTED;
    Decision d =
        new Decision(
            nowMillis,
            DecisionKind.PROMOTE,
            definition.variants().get(i).model(),
            reason,
            automatic,
            numbers);
    log(d);
    return d;
  }

  private Decision rollbackLocked(
      int i, String reason, boolean automatic, JsonObject numbers, long nowMillis) {
    double[] w = weights.clone();
    w[i] = 0;
    reweight(w);
    arms[i].lastDecision = DecisionKind.ROLLED_BACK;
    Decision d =
        new Decision(
            nowMillis,
            DecisionKind.ROLLBACK,
            definition.variants().get(i).model(),
            reason,
            automatic,
            numbers);
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

  /**
   * New weights; SRM restarts counting because the expected split changed, and keeps the evidence
   * gathered so far.
   */
  private void reweight(double[] w) {
    assigner.reweight(w);
    System.arraycopy(w, 0, weights, 0, w.length);
    for (Arm a : arms) {
      a.srmExposures = 0;
    }
    srm.restart();
  }

  /**
   * Takes a decision state decided elsewhere: its weights (SRM restarts when they differ), status
   * and the decisions this history lacks (same time, action and variant). Returns true when
   * anything changed.
   */
  synchronized boolean applyShared(double[] w, Status s, List<Decision> decisions) {
    boolean changed = false;
    if (!java.util.Arrays.equals(w, weights)) {
      reweight(w);
      changed = true;
    }
    for (Decision d : decisions) {
      if (!history.contains(d)) {
        int i = StudentLookup.indexOfModel(definition, d.variant());
        if (i >= 0 && d.action() == DecisionKind.PROMOTE) {
          arms[i].lastDecision = DecisionKind.PROMOTED;
        } else if (i >= 0 && d.action() == DecisionKind.ROLLBACK) {
          arms[i].lastDecision = DecisionKind.ROLLED_BACK;
        }
        log(d);
        changed = true;
      }
    }
    changed |= status != s;
    status = s;
    return changed;
  }

  /** A counter that moves whenever the persisted state may have changed. */
  long changes() {
    return changes.sum();
  }

  private void log(Decision d) {
    changes.increment();
    history.add(d);
  }

  private JsonObject numbersOf(int i) {
    return last == null || last.numbers()[i] == null ? new JsonObject() : last.numbers()[i].copy();
  }

  private void requireRunning(String what) {
    if (status != Status.RUNNING) {
      throw new ExperimentConflictException(
          "cannot " + what + " experiment '" + name() + "': it is " + status.name().toLowerCase());
    }
  }

  // ---- read by ExperimentJson and ExperimentRepository (under this experiment's monitor)
  // ------------

  /** The last evaluation, evaluating (without applying anything) when there was none yet. */
  synchronized DecisionEngine.Evaluation lastEvaluation() {
    if (last == null) {
      last =
          DecisionEngine.evaluate(
              definition, Arm.figures(definition, weights, arms), srm.current(), ledgerCapped());
    }
    return last;
  }

  // ---- decision state persisted by ExperimentJson (SRM evidence, freeze) ---------------------

  synchronized SequentialSrm.State srmState() {
    return srm.state();
  }

  synchronized void restoreDecisionState(SequentialSrm.State state, boolean frozen) {
    srm =
        SequentialSrm.restore(
            SequentialSrm.DEFAULT_ALPHA, SequentialSrm.DEFAULT_CONCENTRATION, state);
    frozenLogged = frozen;
  }

  /** True when an SRM alarm froze the decisions (it stays until the experiment ends). */
  synchronized boolean frozen() {
    return status == Status.RUNNING && srm.current().alarm();
  }

  Arm[] arms() {
    return arms;
  }

  StickyAssigner assigner() {
    return assigner;
  }

  long createdMillis() {
    return createdMillis;
  }

  /** Restores the status and history read back from disk, before the experiment serves. */
  synchronized void restore(Status restoredStatus, List<Decision> restoredHistory) {
    status = restoredStatus;
    history.restore(restoredHistory);
  }
}
