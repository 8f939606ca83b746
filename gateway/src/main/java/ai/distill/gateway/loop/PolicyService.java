package ai.distill.gateway.loop;

import ai.distill.gateway.jobs.JobRecord;
import ai.distill.gateway.jobs.JobRejectedException;
import ai.distill.gateway.jobs.JobService;
import ai.distill.optimizer.drift.DriftReport;
import ai.distill.store.AtomicFiles;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * The recalibration policies and their loop: {@link #tick} measures the drift of each policy's
 * model when its check is due ({@link DriftMonitor}) and, when the policy says so, submits a
 * quantize job from the newest captured rows that canaries its result. Never two jobs for one model
 * (the job service refuses a second one per source, and a policy waits for its own job), never
 * within the cool-down. Policies come from the config and {@code POST /admin/v1/policies}; those
 * posted are kept in {@code <store>/policies.json} and win over the config's after a restart.
 *
 * <pre>{@code
 * PolicyService policies = new PolicyService(store, jobs, drift, registry, configPolicies, System::currentTimeMillis);
 * policies.start();
 * policies.put(RecalibrationPolicy.fromJson(body));
 * policies.tick();   // from a timer, off the event loops
 * }</pre>
 *
 * <p>Thread-safe; {@link #tick} is serialized. Blocking (disk): call off event loops.
 */
public final class PolicyService {

  private static final System.Logger LOG = System.getLogger(PolicyService.class.getName());

  /** A policy and what its loop last saw and did. */
  private static final class State {
    final RecalibrationPolicy policy;
    long nextCheckMillis;
    long lastTriggerMillis;
    long driftSinceMillis;
    String lastJob;
    DriftMonitor.Check lastCheck;
    String lastAction = "not checked yet";

    State(RecalibrationPolicy policy) {
      this.policy = policy;
    }
  }

  private final ModelStore store;
  private final JobService jobs;
  private final DriftMonitor drift;
  private final LongSupplier clock;
  private final Path file;
  private final List<RecalibrationPolicy> configured;
  private final Counter triggers;
  private final Map<String, State> states = new ConcurrentSkipListMap<>();

  public PolicyService(
      ModelStore store,
      JobService jobs,
      DriftMonitor drift,
      PrometheusRegistry registry,
      List<RecalibrationPolicy> configured,
      LongSupplier clockMillis) {
    this.store = store;
    this.jobs = jobs;
    this.drift = drift;
    this.clock = clockMillis;
    this.configured = List.copyOf(configured);
    this.file = store.root().resolve("policies.json");
    this.triggers =
        Counter.builder()
            .name("distill_recalibrations_total")
            .help("Recalibration jobs a policy started, by model and reason (drift, schedule)")
            .labelNames("model", "reason")
            .register(registry);
  }

  /** Loads the configured policies, then the posted ones (which win). Blocking. */
  public void start() throws IOException {
    for (RecalibrationPolicy p : configured) {
      states.put(p.model(), new State(p));
    }
    if (Files.exists(file)) {
      JsonArray saved = new JsonArray(Files.readString(file, StandardCharsets.UTF_8));
      for (int i = 0; i < saved.size(); i++) {
        RecalibrationPolicy p = RecalibrationPolicy.fromJson(saved.getJsonObject(i));
        states.put(p.model(), new State(p));
      }
    }
    states
        .values()
        .forEach(s -> LOG.log(System.Logger.Level.INFO, "policy: {0}", s.policy.toJson().encode()));
  }

  /** Adds or replaces the policy of its model and persists the posted policies. Blocking. */
  public synchronized JsonObject put(RecalibrationPolicy policy) throws IOException {
    State previous = states.get(policy.model());
    State s = new State(policy);
    if (previous != null) {
      s.lastTriggerMillis = previous.lastTriggerMillis;
      s.lastJob = previous.lastJob;
    }
    states.put(policy.model(), s);
    save();
    LOG.log(System.Logger.Level.INFO, "policy set: {0}", policy.toJson().encode());
    return view(s);
  }

  /** Removes a model's policy; false when it had none. Blocking. */
  public synchronized boolean remove(String model) throws IOException {
    if (states.remove(model) == null) {
      return false;
    }
    drift.forget(model);
    save();
    return true;
  }

  /** Every policy with its last drift measurement and action. */
  public JsonArray list() {
    JsonArray out = new JsonArray();
    states.values().forEach(s -> out.add(view(s)));
    return out;
  }

  /** Checks the policies that are due; starts the recalibrations they call for. Blocking. */
  public synchronized void tick() {
    long now = clock.getAsLong();
    for (State s : new ArrayList<>(states.values())) {
      if (now < s.nextCheckMillis) {
        continue;
      }
      s.nextCheckMillis = now + s.policy.checkSeconds() * 1000;
      try {
        evaluate(s, now);
      } catch (RuntimeException e) {
        s.lastAction = "check failed: " + e.getMessage();
        LOG.log(System.Logger.Level.WARNING, "policy of " + s.policy.model() + ": check failed", e);
      }
    }
  }

  private void evaluate(State s, long now) {
    RecalibrationPolicy p = s.policy;
    DriftMonitor.Check c = drift.check(p);
    s.lastCheck = c;
    if (c.version() == null) {
      s.lastAction = c.note();
      return;
    }
    if (s.lastJob != null && !jobs.get(s.lastJob).state().isFinal()) {
      s.lastAction = "waiting for job " + s.lastJob;
      return;
    }
    DriftReport r = c.report();
    boolean drifted = r != null && r.exceeds(p.psiThreshold());
    long since = Math.max(s.lastTriggerMillis, c.publishedMillis());
    boolean scheduled = p.intervalSeconds() > 0 && now - since >= p.intervalSeconds() * 1000;
    String psi = r == null ? c.note() : String.format("PSI max %.3f (%s)", r.max(), r.maxColumn());
    if (!drifted) {
      s.driftSinceMillis = 0;
    } else if (s.driftSinceMillis == 0) {
      s.driftSinceMillis = now;
      LOG.log(
          System.Logger.Level.INFO,
          "drift detected on {0}: {1}, columns above {2}: {3}; recalibrating once {4} rows of the"
              + " new distribution are captured",
          c.version().id(),
          psi,
          p.psiThreshold(),
          r.columnsAbove(p.psiThreshold()),
          p.minRows());
    }
    if (!drifted && !scheduled) {
      s.lastAction = "no drift: " + psi;
      return;
    }
    // On drift, calibrate on the new distribution only: rows captured since the drift was seen.
    long fresh = drifted ? c.rowsAfter(Math.max(s.driftSinceMillis, since)) : c.newRows();
    if (fresh < p.minRows()) {
      s.lastAction =
          (drifted ? "drift (" + psi + ")" : "schedule due")
              + ": "
              + fresh
              + " rows captured "
              + (drifted
                  ? "since the drift was seen"
                  : "since " + c.version().id() + " was published")
              + ", "
              + p.minRows()
              + " needed";
      return;
    }
    if (s.lastTriggerMillis > 0 && now - s.lastTriggerMillis < p.cooldownSeconds() * 1000) {
      s.lastAction =
          "cooling down until "
              + java.time.Instant.ofEpochMilli(s.lastTriggerMillis + p.cooldownSeconds() * 1000);
      return;
    }
    String reason = drifted ? "drift" : "schedule";
    JobRecord job;
    try {
      job = jobs.submit(ai.distill.gateway.jobs.JobSpec.fromJson(jobBody(p, c.version())));
    } catch (JobRejectedException e) {
      s.lastAction = "job refused: " + e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "policy of {0}: {1}", p.model(), s.lastAction);
      return;
    }
    s.lastJob = job.id();
    s.lastTriggerMillis = now;
    s.lastAction = "started job " + job.id() + " on " + reason + ": " + psi;
    triggers.labelValues(p.model(), reason).inc();
    LOG.log(
        System.Logger.Level.INFO,
        "recalibration of {0} ({1}): {2}; {3} new rows; job {4} quantizes {5} on the newest {6}"
            + " rows of captures/{7}",
        c.version().id(),
        reason,
        r == null
            ? "no drift measured"
            : psi + ", columns above " + p.psiThreshold() + ": " + r.columnsAbove(p.psiThreshold()),
        fresh,
        job.id(),
        c.version().manifest().parent(),
        p.windowRows(),
        p.stream());
  }

  /** The job a recalibration submits: quantize the model's parent under the model's name. */
  static JsonObject jobBody(RecalibrationPolicy p, ModelVersion served) {
    String parent = served.manifest().parent();
    if (parent == null) {
      throw new IllegalArgumentException(
          served.id() + " has no parent in its manifest: nothing to quantize it from again");
    }
    JsonObject options =
        p.options().copy().put("min_rows", p.minRows()).put("recent_rows", p.windowRows());
    // A recalibration keeps its model's recipe, whose speed the first quantization measured; a
    // benchmark beside live traffic is noise, and the canary's latency guardrail judges it live.
    // The accuracy gate always runs.
    if (!options.containsKey("speed-check") && !options.containsKey("speed_check")) {
      options.put("speed-check", false);
    }
    JsonObject body =
        new JsonObject()
            .put("source", parent)
            .put("action", "quantize")
            .put("name", p.model())
            .put("rows", p.rows())
            .put("options", options);
    if (p.canaryExperiment() != null) {
      body.put(
          "canary",
          new JsonObject().put("experiment", p.canaryExperiment()).put("weight", p.canaryWeight()));
    }
    return body;
  }

  private JsonObject view(State s) {
    JsonObject o = new JsonObject().put("policy", s.policy.toJson());
    DriftMonitor.Check c = s.lastCheck;
    if (c != null) {
      JsonObject d =
          new JsonObject()
              .put("version", c.version() == null ? null : c.version().id())
              .put("window_rows", c.windowRows())
              .put("new_rows", c.newRows());
      if (c.report() != null) {
        d.put("psi_max", finite(c.report().max()))
            .put("psi_max_column", c.report().maxColumn())
            .put("columns_above", new JsonArray(c.report().columnsAbove(s.policy.psiThreshold())));
      }
      o.put("drift", d);
    }
    return o.put("last_action", s.lastAction)
        .put("last_job", s.lastJob)
        .put(
            "last_trigger",
            s.lastTriggerMillis == 0
                ? null
                : java.time.Instant.ofEpochMilli(s.lastTriggerMillis).toString());
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private void save() throws IOException {
    JsonArray out = new JsonArray();
    for (State s : states.values()) {
      if (!configured.contains(s.policy)) {
        out.add(s.policy.toJson());
      }
    }
    byte[] bytes = out.encodePrettily().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.replace(file, o -> o.write(bytes));
  }
}
