package ai.distill.gateway.experiment;

import ai.distill.gateway.experiment.stats.BenjaminiHochberg;
import ai.distill.gateway.experiment.stats.ChiSquare;
import ai.distill.gateway.experiment.stats.ConfidenceSequence;
import ai.distill.gateway.experiment.stats.ErrorGuardrail;
import ai.distill.gateway.experiment.stats.GuardrailVerdict;
import ai.distill.gateway.experiment.stats.LatencyGuardrail;
import ai.distill.gateway.experiment.stats.MinimumEvidence;
import ai.distill.gateway.experiment.stats.SequentialSrm;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an experiment's live figures into decisions. Per student, in this order: roll back on a
 * confirmed guardrail failure (latency or errors, even while frozen); freeze on a sample-ratio
 * mismatch (the data is broken, not the student); roll back on an inferior CTR; hold on an
 * unconfirmed latency breach; promote (the best of the students that are non-inferior after
 * Benjamini–Hochberg, pass both guardrails and have the minimum exposure in both arms); otherwise
 * hold. Pure and thread-safe: no clock, no state; the stateful tests (SRM, latency windows) are
 * read by the caller and passed in.
 */
public final class DecisionEngine {

  /** SRM alarm threshold, on the sequential (always-valid) p-value. */
  public static final double SRM_ALPHA = SequentialSrm.DEFAULT_ALPHA;

  private DecisionEngine() {}

  /**
   * The figures of one arm at evaluation time.
   *
   * @param latency the student's latency guardrail (null for the teacher)
   * @param outcomes the arm's own model outcomes (successes, model errors, shed)
   */
  record ArmFigures(
      String model,
      double weight,
      long users,
      long impressions,
      long clicks,
      double ratio,
      double variance,
      long srmExposures,
      LatencyGuardrail.Status latency,
      ErrorGuardrail.Counts outcomes) {}

  /**
   * Everything the engine concluded, per arm (index-aligned) and for the experiment.
   *
   * @param srmPValue the chi-square p-value, for display only
   * @param srm the sequential test's reading, which decides
   * @param errors the error guardrail per student (null for the teacher and inactive arms)
   * @param latency the latency guardrail per student (null for the teacher)
   */
  record Evaluation(
      double srmPValue,
      SequentialSrm.Result srm,
      boolean ledgerCapped,
      DecisionKind[] decisions,
      String[] reasons,
      JsonObject[] numbers,
      int promote,
      List<Integer> rollback,
      ErrorGuardrail.Result[] errors,
      LatencyGuardrail.Status[] latency) {

    boolean srmAlarm() {
      return srm.alarm();
    }
  }

  static ErrorGuardrail errorGuardrail(ExperimentDefinition def) {
    return new ErrorGuardrail(
        ErrorGuardrail.DEFAULT.minRequests(),
        def.maxErrorRateDelta(),
        Math.max(def.maxErrorRate(), 1e-6),
        ErrorGuardrail.DEFAULT.alpha(),
        ErrorGuardrail.DEFAULT.plannedRequests());
  }

  static Evaluation evaluate(
      ExperimentDefinition def, ArmFigures[] arms, SequentialSrm.Result srm, boolean capped) {
    int teacher = def.teacherIndex();
    ConfidenceSequence test = new ConfidenceSequence(def.alpha(), def.plannedUsers());
    MinimumEvidence evidence = MinimumEvidence.DEFAULT;
    ErrorGuardrail errorGuardrail = errorGuardrail(def);
    long[] observed = new long[arms.length];
    double[] shares = new double[arms.length];
    for (int i = 0; i < arms.length; i++) {
      observed[i] = arms[i].srmExposures();
      shares[i] = arms[i].weight();
    }
    double chiSquareP = ChiSquare.goodnessOfFitPValue(observed, shares);
    boolean frozen = srm.alarm();

    DecisionKind[] decisions = new DecisionKind[arms.length];
    String[] reasons = new String[arms.length];
    JsonObject[] numbers = new JsonObject[arms.length];
    ErrorGuardrail.Result[] errors = new ErrorGuardrail.Result[arms.length];
    LatencyGuardrail.Status[] latency = new LatencyGuardrail.Status[arms.length];
    List<Integer> students = new ArrayList<>();
    ConfidenceSequence.Result[] results = new ConfidenceSequence.Result[arms.length];
    MinimumEvidence.Floored[] floored = new MinimumEvidence.Floored[arms.length];
    ArmFigures t = arms[teacher];
    for (int i = 0; i < arms.length; i++) {
      latency[i] = arms[i].latency();
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
      errors[i] = errorGuardrail.judge(arms[i].outcomes(), t.outcomes());
      floored[i] =
          evidence.floor(
              new MinimumEvidence.Arm(
                  arms[i].users(), arms[i].impressions(), arms[i].clicks(), arms[i].variance()),
              new MinimumEvidence.Arm(t.users(), t.impressions(), t.clicks(), t.variance()));
      results[i] =
          test.compare(
              arms[i].ratio(),
              floored[i].studentVariance(),
              t.ratio(),
              floored[i].teacherVariance(),
              def.margin(),
              arms[i].users() + t.users());
    }
    double[] p = new double[students.size()];
    for (int k = 0; k < p.length; k++) {
      int i = students.get(k);
      // without the minimum evidence a student is not a candidate for non-inferiority at all
      p[k] = floored[i].allowsNonInferior() ? results[i].pValue() : 1.0;
    }
    boolean[] nonInferior = BenjaminiHochberg.reject(p, def.alpha());

    int promote = -1;
    double bestLower = Double.NEGATIVE_INFINITY;
    List<Integer> rollback = new ArrayList<>();
    for (int k = 0; k < students.size(); k++) {
      int i = students.get(k);
      ArmFigures s = arms[i];
      ConfidenceSequence.Result r = results[i];
      MinimumEvidence.Verdict ctr = floored[i].verdict(r.lower(), r.upper());
      boolean ctrNonInferior = nonInferior[k] && ctr == MinimumEvidence.Verdict.NON_INFERIOR;
      ErrorGuardrail.Result err = errors[i];
      LatencyGuardrail.Status lat = s.latency();
      GuardrailVerdict latVerdict = lat == null ? GuardrailVerdict.PENDING : lat.verdict();
      numbers[i] =
          numbers(def, s, t, r, floored[i], ctr, nonInferior[k], chiSquareP, srm, err, lat);
      if (latVerdict == GuardrailVerdict.ROLLBACK) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] = "guardrail: latency: " + lat.reason();
      } else if (err.verdict() == GuardrailVerdict.ROLLBACK) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] = "guardrail: errors: " + err.reason();
      } else if (frozen) {
        decisions[i] = DecisionKind.FROZEN;
        reasons[i] = frozenReason(srm, chiSquareP);
      } else if (ctr == MinimumEvidence.Verdict.INFERIOR) {
        decisions[i] = DecisionKind.ROLLBACK;
        reasons[i] =
            "inferior: upper bound of CTR_S - "
                + def.margin()
                + " x CTR_T is "
                + fmt(r.upper())
                + " < 0";
      } else if (latVerdict == GuardrailVerdict.HOLD) {
        decisions[i] = DecisionKind.HOLD;
        reasons[i] = "guardrail breach, not yet confirmed: latency: " + lat.reason();
      } else if (ctrNonInferior
          && latVerdict == GuardrailVerdict.PASS
          && err.verdict() == GuardrailVerdict.PASS
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
        reasons[i] = holdReason(def, r, floored[i], ctrNonInferior, latVerdict, lat, err, s, t);
      }
      if (decisions[i] == DecisionKind.ROLLBACK) {
        rollback.add(i);
      }
    }
    if (frozen) {
      promote = -1;
    }
    return new Evaluation(
        chiSquareP, srm, capped, decisions, reasons, numbers, promote, rollback, errors, latency);
  }

  static String frozenReason(SequentialSrm.Result srm, double chiSquareP) {
    return "frozen: sample ratio mismatch (sequential p = "
        + fmt(srm.pValue())
        + " < "
        + SRM_ALPHA
        + ", chi-square p = "
        + fmt(chiSquareP)
        + "): the traffic split is broken, a person must look";
  }

  private static JsonObject numbers(
      ExperimentDefinition def,
      ArmFigures s,
      ArmFigures t,
      ConfidenceSequence.Result r,
      MinimumEvidence.Floored floored,
      MinimumEvidence.Verdict ctr,
      boolean bhNonInferior,
      double chiSquareP,
      SequentialSrm.Result srm,
      ErrorGuardrail.Result err,
      LatencyGuardrail.Status lat) {
    JsonObject n =
        new JsonObject()
            .put("difference", finite(r.difference()))
            .put("lower", finite(r.lower()))
            .put("upper", finite(r.upper()))
            .put("sigma", finite(r.sigma()))
            .put("users", r.users())
            .put("p_value", finite(r.pValue()))
            .put("bh_non_inferior", bhNonInferior)
            .put("verdict", ctr.name().toLowerCase())
            .put("evidence_missing", floored.missing())
            .put("pooled_ctr", floored.pooledCtr())
            .put("margin", def.margin())
            .put("srm_p_value", chiSquareP)
            .put("srm_sequential_p_value", srm.pValue())
            .put("student_ctr", s.ratio())
            .put("teacher_ctr", t.ratio())
            .put("student_users", s.users())
            .put("teacher_users", t.users())
            .put("student_clicks", s.clicks())
            .put("teacher_clicks", t.clicks())
            .put("min_exposure", def.minExposure())
            .put("latency_guardrail", lat == null ? "pending" : lat.verdict().name().toLowerCase())
            .put("error_guardrail", err.verdict().name().toLowerCase())
            .put("student_error_rate", err.studentRate())
            .put("teacher_error_rate", err.teacherRate())
            .put("error_difference_lower", finite(err.differenceLower()))
            .put("student_shed_rate", err.studentShedRate());
    if (lat != null) {
      n.put("latency_window", lat.window())
          .put("student_cost_p99_lower_seconds", finite(lat.student().lowerSeconds()))
          .put("teacher_cost_p99_upper_seconds", finite(lat.teacher().upperSeconds()))
          .put("latency_breaches", lat.consecutiveBreaches());
    }
    return n;
  }

  private static String holdReason(
      ExperimentDefinition def,
      ConfidenceSequence.Result r,
      MinimumEvidence.Floored floored,
      boolean nonInferior,
      GuardrailVerdict latency,
      LatencyGuardrail.Status lat,
      ErrorGuardrail.Result err,
      ArmFigures s,
      ArmFigures t) {
    if (!nonInferior) {
      if (floored.missing() != null) {
        return "collecting: waiting for " + floored.missing();
      }
      return "collecting: interval [" + fmt(r.lower()) + ", " + fmt(r.upper()) + "] contains 0";
    }
    if (latency != GuardrailVerdict.PASS) {
      return "non-inferior, waiting for the latency guardrail: "
          + (lat == null ? "no data" : lat.reason());
    }
    if (err.verdict() != GuardrailVerdict.PASS) {
      return "non-inferior, waiting for the error guardrail: " + err.reason();
    }
    return "non-inferior, waiting for "
        + def.minExposure()
        + " users per arm (student "
        + s.users()
        + ", teacher "
        + t.users()
        + ")";
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

  /** The history entry logged once when an SRM alarm freezes an experiment's decisions. */
  static Decision frozen(
      long nowMillis, ExperimentDefinition definition, Evaluation e, JsonArray observed) {
    return new Decision(
        nowMillis,
        DecisionKind.FROZEN,
        definition.teacher(),
        frozenReason(e.srm(), e.srmPValue()),
        true,
        new JsonObject()
            .put("srm_sequential_p_value", e.srm().pValue())
            .put("srm_p_value", e.srmPValue())
            .put("observed", observed));
  }
}
