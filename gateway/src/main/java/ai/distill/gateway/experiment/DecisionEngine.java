package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.BenjaminiHochberg;
import ai.distill.gateway.experiment.stats.ChiSquare;
import ai.distill.gateway.experiment.stats.ConfidenceSequence;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an experiment's live figures into decisions: roll back at once on an SRM alarm, inferiority
 * or a guardrail failure; promote (the best of the students that are non-inferior after
 * Benjamini–Hochberg, pass the guardrails and have the minimum exposure in both arms); otherwise
 * hold. Pure and thread-safe.
 */
public final class DecisionEngine {

  /** SRM alarm threshold on the chi-square p-value. */
  public static final double SRM_ALPHA = 0.001;

  private DecisionEngine() {}

  /** The figures of one arm at evaluation time. */
  record ArmFigures(
      String model,
      double weight,
      long users,
      long impressions,
      long clicks,
      double ratio,
      double variance,
      long srmExposures,
      ServingWindow.Snapshot window,
      int latencyBreaches) {}

  /** The guardrail outcome of one student. */
  enum Guardrail {
    PASS,
    FAIL,
    INSUFFICIENT_DATA
  }

  /** Everything the engine concluded, per arm (index-aligned) and for the experiment. */
  record Evaluation(
      double srmPValue,
      boolean srmAlarm,
      DecisionKind[] decisions,
      String[] reasons,
      JsonObject[] numbers,
      int promote,
      List<Integer> rollback,
      boolean[] latencyBreach) {}

  static Evaluation evaluate(ExperimentDefinition def, ArmFigures[] arms) {
    int teacher = def.teacherIndex();
    ConfidenceSequence test = new ConfidenceSequence(def.alpha(), def.plannedUsers());
    long[] observed = new long[arms.length];
    double[] shares = new double[arms.length];
    for (int i = 0; i < arms.length; i++) {
      observed[i] = arms[i].srmExposures();
      shares[i] = arms[i].weight();
    }
    double srmP = ChiSquare.goodnessOfFitPValue(observed, shares);
    boolean srmAlarm = srmP < SRM_ALPHA;

    DecisionKind[] decisions = new DecisionKind[arms.length];
    String[] reasons = new String[arms.length];
    JsonObject[] numbers = new JsonObject[arms.length];
    List<Integer> students = new ArrayList<>();
    ConfidenceSequence.Result[] results = new ConfidenceSequence.Result[arms.length];
    ArmFigures t = arms[teacher];
    for (int i = 0; i < arms.length; i++) {
      if (i == teacher) {
        decisions[i] = DecisionKind.TEACHER;
        reasons[i] = "the reference arm";
        numbers[i] = new JsonObject();
        continue;
      }
      if (arms[i].weight() <= 0) {
        decisions[i] = DecisionKind.INACTIVE;
        reasons[i] = "weight 0";
        numbers[i] = new JsonObject();
        continue;
      }
      students.add(i);
      results[i] =
          test.compare(
              arms[i].ratio(),
              arms[i].variance(),
              t.ratio(),
              t.variance(),
              def.margin(),
              arms[i].users() + t.users());
    }
    double[] p = new double[students.size()];
    for (int k = 0; k < p.length; k++) {
      p[k] = results[students.get(k)].pValue();
    }
    boolean[] nonInferior = BenjaminiHochberg.reject(p, def.alpha());

    int promote = -1;
    double bestLower = Double.NEGATIVE_INFINITY;
    List<Integer> rollback = new ArrayList<>();
    boolean[] latencyBreach = new boolean[arms.length];
    for (int k = 0; k < students.size(); k++) {
      int i = students.get(k);
      ArmFigures s = arms[i];
      ConfidenceSequence.Result r = results[i];
      String guardrailReason = guardrailReason(def, s.window(), t.window());
      Guardrail guardrail =
          guardrailReason == null ? guardrailPass(def, s.window(), t.window()) : Guardrail.FAIL;
      boolean sustained = true;
      if (guardrailReason != null && guardrailReason.startsWith("p99")) {
        latencyBreach[i] = true;
        int breaches = s.latencyBreaches() + 1;
        sustained = breaches >= def.latencyBreaches();
        guardrailReason +=
            " (" + breaches + " of " + def.latencyBreaches() + " consecutive evaluations)";
      }
      JsonObject n =
          new JsonObject()
              .put("difference", finite(r.difference()))
              .put("lower", finite(r.lower()))
              .put("upper", finite(r.upper()))
              .put("sigma", finite(r.sigma()))
              .put("users", r.users())
              .put("p_value", finite(r.pValue()))
              .put("bh_non_inferior", nonInferior[k])
              .put("verdict", r.verdict().name().toLowerCase())
              .put("margin", def.margin())
              .put("srm_p_value", srmP)
              .put("student_ctr", s.ratio())
              .put("teacher_ctr", t.ratio())
              .put("student_users", s.users())
              .put("teacher_users", t.users())
              .put("min_exposure", def.minExposure())
              .put("guardrail", guardrail.name().toLowerCase())
              .put("student_p99_seconds", finite(s.window().p99Seconds()))
              .put("teacher_p99_seconds", finite(t.window().p99Seconds()))
              .put("student_error_rate", s.window().errorRate())
              .put("latency_breaches", latencyBreach[i] ? s.latencyBreaches() + 1 : 0);
      numbers[i] = n;
      if (srmAlarm) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] = "sample ratio mismatch: p = " + fmt(srmP) + " < " + SRM_ALPHA;
      } else if (r.verdict() == ConfidenceSequence.Verdict.INFERIOR) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] =
            "inferior: upper bound of CTR_S - "
                + def.margin()
                + " x CTR_T is "
                + fmt(r.upper())
                + " < 0";
      } else if (guardrail == Guardrail.FAIL && sustained) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] = "guardrail: " + guardrailReason;
      } else if (guardrail == Guardrail.FAIL) {
        decisions[i] = DecisionKind.HOLD;
        reasons[i] = "guardrail breach, not yet sustained: " + guardrailReason;
      } else if (nonInferior[k]
          && guardrail == Guardrail.PASS
          && s.users() >= def.minExposure()
          && t.users() >= def.minExposure()) {
        decisions[i] = DecisionKind.PROMOTE;
        reasons[i] =
            "non-inferior: lower bound "
                + fmt(r.lower())
                + " > 0 (BH across "
                + students.size()
                + " students), guardrails pass, "
                + s.users()
                + " and "
                + t.users()
                + " users exposed";
        if (r.lower() > bestLower) {
          bestLower = r.lower();
          promote = i;
        }
      } else {
        decisions[i] = DecisionKind.HOLD;
        reasons[i] = holdReason(def, r, nonInferior[k], guardrail, s, t);
      }
      if (decisions[i] == DecisionKind.ROLLBACK) {
        rollback.add(i);
      }
    }
    if (!rollback.isEmpty() && srmAlarm) {
      promote = -1;
    }
    return new Evaluation(
        srmP, srmAlarm, decisions, reasons, numbers, promote, rollback, latencyBreach);
  }

  private static String holdReason(
      ExperimentDefinition def,
      ConfidenceSequence.Result r,
      boolean nonInferior,
      Guardrail guardrail,
      ArmFigures s,
      ArmFigures t) {
    if (!nonInferior) {
      return "collecting: interval [" + fmt(r.lower()) + ", " + fmt(r.upper()) + "] contains 0";
    }
    if (guardrail != Guardrail.PASS) {
      return "non-inferior, waiting for "
          + def.minWindowRequests()
          + " requests per arm in the guardrail window";
    }
    return "non-inferior, waiting for "
        + def.minExposure()
        + " users per arm (student "
        + s.users()
        + ", teacher "
        + t.users()
        + ")";
  }

  /** Null when no guardrail fails (yet), else what failed. */
  static String guardrailReason(
      ExperimentDefinition def, ServingWindow.Snapshot s, ServingWindow.Snapshot t) {
    if (s.requests() >= def.minWindowRequests() && s.errorRate() > def.maxErrorRate()) {
      return "error rate " + fmt(s.errorRate()) + " > " + def.maxErrorRate();
    }
    long sOk = s.requests() - s.errors();
    long tOk = t.requests() - t.errors();
    if (sOk >= def.minWindowRequests()
        && tOk >= def.minWindowRequests()
        && s.p99Seconds() > def.latencyRatio() * t.p99Seconds() + def.latencyTolerance()) {
      return "p99 "
          + fmt(s.p99Seconds())
          + " s > "
          + def.latencyRatio()
          + " x teacher p99 "
          + fmt(t.p99Seconds())
          + " s + "
          + def.latencyTolerance()
          + " s";
    }
    return null;
  }

  private static Guardrail guardrailPass(
      ExperimentDefinition def, ServingWindow.Snapshot s, ServingWindow.Snapshot t) {
    long sOk = s.requests() - s.errors();
    long tOk = t.requests() - t.errors();
    return sOk >= def.minWindowRequests() && tOk >= def.minWindowRequests()
        ? Guardrail.PASS
        : Guardrail.INSUFFICIENT_DATA;
  }

  static Object finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.6g", v);
  }

  static JsonArray array(double... values) {
    JsonArray a = new JsonArray();
    for (double v : values) {
      a.add(finite(v));
    }
    return a;
  }
}
