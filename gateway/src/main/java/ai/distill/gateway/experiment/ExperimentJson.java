package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.ConfidenceSequence;
import ai.distill.gateway.experiment.stats.ErrorGuardrail;
import ai.distill.gateway.experiment.stats.LatencyGuardrail;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one JSON (de)serialiser of experiments: definitions (the admin API's body and definition
 * files), decisions, the API view of a live experiment, and the persisted state that {@link
 * ExperimentRepository} writes next to the binary user ledgers. Stateless and thread-safe; reads an
 * experiment under its monitor.
 */
public final class ExperimentJson {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private ExperimentJson() {}

  // ---- definitions
  // -------------------------------------------------------------------------------

  /**
   * Validates the admin API's body (or a definition file) into a definition; throws {@link
   * IllegalArgumentException} naming the field and what it expects.
   */
  public static ExperimentDefinition definition(JsonObject body) {
    if (body == null) {
      throw new IllegalArgumentException(
          "body: expected a JSON object like {\"name\": \"ctr-ab\", \"teacher\": \"ctr\", "
              + "\"variants\": [{\"model\": \"ctr\", \"weight\": 50}, {\"model\": \"ctr-int8\", \"weight\": 50}]}");
    }
    String name = string(body, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name: '"
              + name
              + "' (expected: letters, digits, '.', '_' or '-', "
              + "starting with a letter or digit, at most 128 characters)");
    }
    String teacher = string(body, "teacher");
    Object rawVariants = body.getValue("variants");
    if (!(rawVariants instanceof JsonArray array) || array.size() < 2) {
      throw new IllegalArgumentException(
          "variants: expected an array of at least two {\"model\", \"weight\"} "
              + "objects (the teacher and one or more students)");
    }
    List<ExperimentDefinition.Variant> variants = new ArrayList<>();
    double total = 0;
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject v)) {
        throw new IllegalArgumentException(
            "variants[" + i + "]: expected an object {\"model\", \"weight\"}");
      }
      String model = string(v, "model");
      double weight = number(v, "weight", Double.NaN, "variants[" + i + "].weight");
      if (!(weight >= 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException(
            "variants["
                + i
                + "].weight: "
                + v.getValue("weight")
                + " (expected: a finite number >= 0)");
      }
      Long version = null;
      Object rawVersion = v.getValue("version");
      if (rawVersion != null) {
        try {
          version = Long.parseLong(String.valueOf(rawVersion));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "variants["
                  + i
                  + "].version: '"
                  + rawVersion
                  + "' (expected: a version number such as 3)");
        }
      }
      for (ExperimentDefinition.Variant other : variants) {
        if (other.model().equals(model)) {
          throw new IllegalArgumentException(
              "variants["
                  + i
                  + "].model: '"
                  + model
                  + "' appears twice (expected: each model once)");
        }
      }
      variants.add(new ExperimentDefinition.Variant(model, version, weight));
      total += weight;
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException(
          "variants: weights sum to " + total + " (expected: a positive total)");
    }
    if (variants.stream().noneMatch(v -> v.model().equals(teacher))) {
      throw new IllegalArgumentException(
          "teacher: '"
              + teacher
              + "' is not one of the variants (expected: "
              + "one of the variants' models)");
    }
    double margin = number(body, "margin", 0.99, "margin");
    check(margin > 0 && margin <= 1.5, "margin", margin, "0 < margin <= 1.5");
    double shadow = number(body, "shadow_rate", 0.0, "shadow_rate");
    check(shadow >= 0 && shadow <= 1, "shadow_rate", shadow, "0 <= shadow_rate <= 1");
    double capture = number(body, "capture_rate", 0.0, "capture_rate");
    check(capture >= 0 && capture <= 1, "capture_rate", capture, "0 <= capture_rate <= 1");
    long minExposure = (long) number(body, "min_exposure", 1000, "min_exposure");
    check(minExposure >= 0, "min_exposure", minExposure, ">= 0");
    long window =
        (long) number(body, "attribution_window_seconds", 600, "attribution_window_seconds");
    check(window > 0, "attribution_window_seconds", window, "> 0");
    Object auto = body.getValue("auto", Boolean.TRUE);
    if (!(auto instanceof Boolean)) {
      throw new IllegalArgumentException("auto: " + auto + " (expected: true or false)");
    }
    long planned = (long) number(body, "planned_users", 10_000, "planned_users");
    check(planned > 0, "planned_users", planned, "> 0");
    double alpha = number(body, "alpha", 0.05, "alpha");
    check(alpha > 0 && alpha < 0.5, "alpha", alpha, "0 < alpha < 0.5");
    Object salt = body.getValue("salt", name);
    double latencyRatio = number(body, "max_p99_ratio", 1.10, "max_p99_ratio");
    check(latencyRatio >= 1, "max_p99_ratio", latencyRatio, ">= 1");
    double tolerance = number(body, "p99_tolerance_seconds", 0.0005, "p99_tolerance_seconds");
    check(tolerance >= 0, "p99_tolerance_seconds", tolerance, ">= 0");
    double maxErrorRate = number(body, "max_error_rate", 0.05, "max_error_rate");
    check(
        maxErrorRate >= 0 && maxErrorRate <= 1,
        "max_error_rate",
        maxErrorRate,
        "0 <= max_error_rate <= 1");
    double maxErrorRateDelta = number(body, "max_error_rate_delta", 0.01, "max_error_rate_delta");
    check(
        maxErrorRateDelta >= 0 && maxErrorRateDelta < 1,
        "max_error_rate_delta",
        maxErrorRateDelta,
        "0 <= max_error_rate_delta < 1");
    double slo = number(body, "latency_slo_seconds", 0.05, "latency_slo_seconds");
    check(slo >= 0 && slo <= 60, "latency_slo_seconds", slo, "0 (none) to 60");
    long windowSeconds =
        (long) number(body, "guardrail_window_seconds", 60, "guardrail_window_seconds");
    check(windowSeconds > 0, "guardrail_window_seconds", windowSeconds, "> 0");
    long minRequests =
        (long) number(body, "guardrail_min_requests", 2000, "guardrail_min_requests");
    check(minRequests > 0, "guardrail_min_requests", minRequests, "> 0");
    long breaches =
        (long) number(body, "guardrail_latency_breaches", 3, "guardrail_latency_breaches");
    check(breaches >= 1 && breaches <= 1000, "guardrail_latency_breaches", breaches, "1..1000");
    return new ExperimentDefinition(
        name,
        teacher,
        variants,
        margin,
        shadow,
        capture,
        minExposure,
        window,
        (Boolean) auto,
        planned,
        alpha,
        String.valueOf(salt),
        latencyRatio,
        tolerance,
        maxErrorRate,
        windowSeconds,
        minRequests,
        (int) breaches,
        slo,
        maxErrorRateDelta);
  }

  /** A definition as the admin API accepts it (and {@link #definition} reads it back). */
  public static JsonObject toJson(ExperimentDefinition d) {
    JsonArray vs = new JsonArray();
    d.variants()
        .forEach(
            v -> {
              JsonObject o = new JsonObject().put("model", v.model()).put("weight", v.weight());
              if (v.version() != null) {
                o.put("version", String.valueOf(v.version()));
              }
              vs.add(o);
            });
    return new JsonObject()
        .put("name", d.name())
        .put("teacher", d.teacher())
        .put("variants", vs)
        .put("margin", d.margin())
        .put("shadow_rate", d.shadowRate())
        .put("capture_rate", d.captureRate())
        .put("min_exposure", d.minExposure())
        .put("attribution_window_seconds", d.attributionWindowSeconds())
        .put("auto", d.auto())
        .put("planned_users", d.plannedUsers())
        .put("alpha", d.alpha())
        .put("salt", d.salt())
        .put("max_p99_ratio", d.latencyRatio())
        .put("p99_tolerance_seconds", d.latencyTolerance())
        .put("max_error_rate", d.maxErrorRate())
        .put("guardrail_window_seconds", d.windowSeconds())
        .put("guardrail_min_requests", d.minWindowRequests())
        .put("guardrail_latency_breaches", d.latencyBreaches())
        .put("latency_slo_seconds", d.latencySloSeconds())
        .put("max_error_rate_delta", d.maxErrorRateDelta());
  }

  // ---- decisions
  // ---------------------------------------------------------------------------------

  public static JsonObject toJson(Decision d) {
    return new JsonObject()
        .put("ts", d.timestampMillis())
        .put("action", d.action().label())
        .put("variant", d.variant())
        .put("reason", d.reason())
        .put("automatic", d.automatic())
        .put("numbers", d.numbers().copy());
  }

  static Decision decision(JsonObject o) {
    return new Decision(
        o.getLong("ts", 0L),
        DecisionKind.parse(o.getString("action")),
        o.getString("variant"),
        o.getString("reason"),
        o.getBoolean("automatic", false),
        o.getJsonObject("numbers", new JsonObject()));
  }

  // ---- the API view
  // ------------------------------------------------------------------------------

  /** The API view: definition, live statistics per variant, SRM and history. */
  public static JsonObject view(Experiment e) {
    synchronized (e) {
      DecisionEngine.Evaluation last = e.lastEvaluation();
      ExperimentDefinition definition = e.definition();
      Arm[] arms = e.arms();
      JsonArray variants = new JsonArray();
      ConfidenceSequence test =
          new ConfidenceSequence(definition.alpha(), definition.plannedUsers());
      long now = System.nanoTime();
      for (int i = 0; i < arms.length; i++) {
        Arm a = arms[i];
        ExperimentDefinition.Variant v = definition.variants().get(i);
        ServingWindow.Snapshot w = a.window.snapshot(now);
        ServingWindow.Snapshot cost = a.cost.snapshot(now);
        ConfidenceSequence.Result ci =
            test.compare(a.ledger.ratio(), a.ledger.ratioVariance(), 0, 0, 0, a.ledger.users());
        Long version = v.version() != null ? v.version() : a.servedVersion;
        ShadowAgreement.Snapshot sh = a.shadow.snapshot();
        variants.add(
            new JsonObject()
                .put("model", v.model())
                .put("version", version == null ? null : String.valueOf(version))
                .put("role", i == e.teacherIndex() ? "teacher" : "student")
                .put("weight", e.weight(i))
                .put("slots", e.assigner().slots(i))
                .put("exposures", a.ledger.users())
                .put("impressions", a.ledger.impressions())
                .put("clicks", a.ledger.clicks())
                .put("ctr", a.ledger.ratio())
                .put("ctr_ci", DecisionEngine.array(ci.lower(), ci.upper()))
                .put("p50_seconds", DecisionEngine.finite(w.p50Seconds()))
                .put("p99_seconds", DecisionEngine.finite(w.p99Seconds()))
                .put("model_cost_p99_seconds", DecisionEngine.finite(cost.p99Seconds()))
                .put("error_rate", a.outcomes().errorRate())
                .put("window_requests", w.requests())
                .put("guardrails", guardrails(a, last, i))
                .put(
                    "anonymous",
                    new JsonObject()
                        .put("requests", a.anonymousRequests)
                        .put("impressions", a.anonymousImpressions)
                        .put("clicks", a.anonymousClicks))
                .put("untracked_users", a.ledger.untracked() + a.cappedRequests)
                .put(
                    "shadow",
                    new JsonObject()
                        .put("rows", sh.rows())
                        .put("mean_abs_diff", DecisionEngine.finite(sh.meanAbsDiff()))
                        .put("rank_agreement", DecisionEngine.finite(sh.rankAgreement()))
                        .put("mean_ratio", DecisionEngine.finite(sh.meanRatio())))
                .put("decision", displayDecision(e, i))
                .put("reason", last.reasons()[i])
                .put("numbers", last.numbers()[i]));
      }
      JsonArray observed = new JsonArray();
      for (Arm a : arms) {
        observed.add(a.srmExposures);
      }
      return new JsonObject()
          .put("name", e.name())
          .put("status", e.status().name().toLowerCase())
          .put("frozen", e.frozen() ? "SRM" : null)
          .put("ledger_capped", last.ledgerCapped())
          .put("teacher", definition.teacher())
          .put("created", e.createdMillis())
          .put("variants", variants)
          .put(
              "srm",
              new JsonObject()
                  .put("p_value", last.srmPValue())
                  .put("sequential_p_value", last.srm().pValue())
                  .put("alarm", last.srmAlarm())
                  .put("ledger_capped", last.ledgerCapped())
                  .put("threshold", DecisionEngine.SRM_ALPHA)
                  .put("observed", observed))
          .put("definition", toJson(definition))
          .put("generation", generation(definition))
          .put("history", history(e));
    }
  }

  /** A variant's guardrails: the latency windows on model cost, and its outcome counts. */
  private static JsonObject guardrails(Arm a, DecisionEngine.Evaluation last, int i) {
    ErrorGuardrail.Result err = last.errors()[i];
    JsonObject errors =
        new JsonObject()
            .put("requests", a.successes + a.modelErrors)
            .put("model_errors", a.modelErrors)
            .put("shed", a.shed)
            .put("client_errors", a.clientErrors)
            .put("error_rate", a.outcomes().errorRate())
            .put("shed_rate", a.outcomes().shedRate())
            .put("verdict", err == null ? null : err.verdict().name().toLowerCase())
            .put("reason", err == null ? null : err.reason())
            .put(
                "difference_lower",
                err == null ? null : DecisionEngine.finite(err.differenceLower()))
            .put(
                "difference_upper",
                err == null ? null : DecisionEngine.finite(err.differenceUpper()));
    JsonObject out = new JsonObject().put("errors", errors);
    LatencyGuardrail.Status lat = a.latency == null ? null : a.latency.status();
    if (lat != null) {
      out.put(
          "latency",
          new JsonObject()
              .put("verdict", lat.verdict().name().toLowerCase())
              .put("reason", lat.reason())
              .put("windows", lat.window())
              .put("breach", lat.breach())
              .put("consecutive_breaches", lat.consecutiveBreaches())
              .put("student_p99_seconds", DecisionEngine.finite(lat.student().estimateSeconds()))
              .put("student_p99_lower_seconds", DecisionEngine.finite(lat.student().lowerSeconds()))
              .put("teacher_p99_seconds", DecisionEngine.finite(lat.teacher().estimateSeconds()))
              .put("teacher_p99_upper_seconds", DecisionEngine.finite(lat.teacher().upperSeconds()))
              .put("open_window_student", lat.openStudent())
              .put("open_window_teacher", lat.openTeacher()));
    }
    return out;
  }

  /** The decision shown for a variant in the API view (under the experiment's monitor). */
  static String displayDecision(Experiment e, int i) {
    Experiment.Status status = e.status();
    if (i == e.teacherIndex()) {
      return (status == Experiment.Status.PROMOTED ? DecisionKind.REPLACED : DecisionKind.TEACHER)
          .label();
    }
    DecisionKind d = e.arms()[i].lastDecision;
    if (status != Experiment.Status.RUNNING
        && d != DecisionKind.PROMOTED
        && d != DecisionKind.ROLLED_BACK) {
      return status.name().toLowerCase(Locale.ROOT);
    }
    return (e.weight(i) <= 0 && d != DecisionKind.ROLLED_BACK ? DecisionKind.INACTIVE : d).label();
  }

  // ---- shared between instances ----------------------------------------------------------------

  /** A fact's or decision's generation: a hash of the definition, the same on every instance. */
  public static String generation(ExperimentDefinition d) {
    // asked for every shared event: computed once per definition object (by name, then identity)
    Map.Entry<ExperimentDefinition, String> g = GENERATIONS.get(d.name());
    if (g == null || g.getKey() != d) {
      g = Map.entry(d, Long.toHexString(Murmur3.hash64(toJson(d).encode())));
      GENERATIONS.put(d.name(), g);
    }
    return g.getValue();
  }

  private static final Map<String, Map.Entry<ExperimentDefinition, String>> GENERATIONS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * What other instances need to take over an experiment's decisions: {@code {"experiment",
   * "generation", "status", "weights", "decisions"}} (the last {@value #SHARED_DECISIONS} non-hold
   * decisions).
   */
  public static JsonObject decisionState(Experiment e) {
    JsonArray weights = new JsonArray();
    JsonArray decisions = new JsonArray();
    synchronized (e) {
      for (int i = 0; i < e.definition().variants().size(); i++) {
        weights.add(e.weight(i));
      }
      List<Decision> h = e.history().stream().filter(d -> d.action() != DecisionKind.HOLD).toList();
      h.subList(Math.max(0, h.size() - SHARED_DECISIONS), h.size())
          .forEach(d -> decisions.add(toJson(d)));
      return new JsonObject()
          .put("experiment", e.name())
          .put("generation", generation(e.definition()))
          .put("status", e.status().name().toLowerCase(Locale.ROOT))
          .put("weights", weights)
          .put("decisions", decisions);
    }
  }

  static final int SHARED_DECISIONS = 50;

  /** Applies {@link #decisionState}; false for another generation's (IAE when malformed). */
  static boolean applyDecisionState(Experiment e, JsonObject state) {
    if (!generation(e.definition()).equals(state.getString("generation"))) {
      return false;
    }
    JsonArray w = state.getJsonArray("weights");
    if (w == null || w.size() != e.definition().variants().size()) {
      throw new IllegalArgumentException("decision state: weights do not match the variants");
    }
    double[] weights = new double[w.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = w.getDouble(i);
    }
    List<Decision> decisions = new ArrayList<>();
    long incoming = Long.MIN_VALUE;
    for (Object o : state.getJsonArray("decisions", new JsonArray())) {
      decisions.add(decision((JsonObject) o));
      incoming = Math.max(incoming, decisions.get(decisions.size() - 1).timestampMillis());
    }
    long local = Long.MIN_VALUE;
    for (Decision d : e.history()) {
      if (d.action() != DecisionKind.HOLD) {
        local = Math.max(local, d.timestampMillis());
      }
    }
    if (incoming < local) {
      return false; // an older state (e.g. this instance's own, read back after a newer decision)
    }
    return e.applyShared(
        weights,
        Experiment.Status.valueOf(state.getString("status", "").toUpperCase(Locale.ROOT)),
        decisions);
  }

  static JsonArray history(Experiment e) {
    JsonArray h = new JsonArray();
    e.history().forEach(d -> h.add(toJson(d)));
    return h;
  }

  /** Everything but the per-user ledgers, as {@link ExperimentRepository} writes it. */
  static JsonObject state(Experiment e) {
    return ExperimentStateJson.state(e);
  }

  /** An experiment from its persisted state (ledgers are read separately). */
  static Experiment restore(JsonObject state, ExperimentMetrics metrics, int maxUsers) {
    return ExperimentStateJson.restore(state, metrics, maxUsers);
  }

  static String string(JsonObject o, String field) {
    Object v = o.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException(
          field + ": " + (v == null ? "missing" : v) + " (expected: a non-empty string)");
    }
    return s;
  }

  static double number(JsonObject o, String field, double fallback, String label) {
    Object v = o.getValue(field);
    if (v == null) {
      if (Double.isNaN(fallback)) {
        throw new IllegalArgumentException(label + ": missing (expected: a number)");
      }
      return fallback;
    }
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException(label + ": " + v + " (expected: a number)");
    }
    return n.doubleValue();
  }

  static void check(boolean ok, String field, double value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: " + expected + ")");
    }
  }
}
