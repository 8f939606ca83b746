package ai.distill.gateway.experiment.stats;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latency guardrail of one student against the teacher, on what the model itself costs per request
 * (queue wait + batch compute, measured by the caller). Costs go into non-overlapping windows; a
 * window closes once both arms have {@code minRequests} costs in it, and breaches only when the
 * student's p99 lower bound exceeds {@code maxRatio} × the teacher's p99 upper bound + {@code
 * tolerance} ({@link QuantileBounds}). A breach holds promotion; {@code confirmations} consecutive
 * breaching windows, or a student p99 lower bound above the absolute SLO, recommend a rollback,
 * which then stays.
 *
 * <p>Memory is fixed whatever the traffic: one HdrHistogram per arm (2 significant digits, 1 µs to
 * 60 s, about 22 KB each; costs outside are clamped), reset when its window closes. Thread-safe
 * (synchronized; recording is one histogram increment). No clock inside: windows are counted, not
 * timed.
 */
public final class LatencyGuardrail {

  static final long LOWEST_NANOS = 1_000;
  static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
  static final int SIGNIFICANT_DIGITS = 2;

  /**
   * @param minRequests costs per arm before a window may close (2,000)
   * @param quantile the quantile judged (0.99)
   * @param z of the distribution-free bounds (2.576, two-sided 99%)
   * @param maxRatio the student may cost up to this × the teacher (1.10)
   * @param toleranceNanos added to the allowance, so microsecond noise never breaches (0.5 ms)
   * @param sloNanos absolute ceiling on the student's quantile, judged on its lower bound; 0 = none
   *     (50 ms)
   * @param confirmations consecutive breaching windows that recommend a rollback (3)
   */
  public record Config(
      int minRequests,
      double quantile,
      double z,
      double maxRatio,
      long toleranceNanos,
      long sloNanos,
      int confirmations) {

    public static final Config DEFAULT =
        new Config(
            2_000,
            0.99,
            QuantileBounds.DEFAULT_Z,
            1.10,
            TimeUnit.MICROSECONDS.toNanos(500),
            TimeUnit.MILLISECONDS.toNanos(50),
            3);

    public Config {
      if (!(quantile > 0 && quantile < 1)) {
        throw new IllegalArgumentException(
            "quantile : " + quantile + " (expected: 0 < quantile < 1)");
      }
      if (!(z > 0 && Double.isFinite(z))) {
        throw new IllegalArgumentException("z : " + z + " (expected: > 0)");
      }
      long needed = QuantileBounds.minSamplesForUpper(quantile, z);
      if (minRequests < needed) {
        throw new IllegalArgumentException(
            "minRequests : "
                + minRequests
                + " (expected: >= "
                + needed
                + ", fewer cannot bound the teacher's p"
                + (quantile * 100)
                + " from above at z = "
                + z
                + ")");
      }
      if (!(maxRatio >= 1 && Double.isFinite(maxRatio))) {
        throw new IllegalArgumentException("maxRatio : " + maxRatio + " (expected: >= 1)");
      }
      if (toleranceNanos < 0) {
        throw new IllegalArgumentException(
            "toleranceNanos : " + toleranceNanos + " (expected: >= 0)");
      }
      if (sloNanos < 0) {
        throw new IllegalArgumentException(
            "sloNanos : " + sloNanos + " (expected: >= 0, 0 for none)");
      }
      if (confirmations <= 0) {
        throw new IllegalArgumentException("confirmations : " + confirmations + " (expected: > 0)");
      }
    }
  }

  /**
   * One arm in the last closed window, in seconds; NaN where there is nothing (no window closed
   * yet).
   *
   * @param upperSeconds NaN when the window was too small to bound the quantile from above
   */
  public record ArmStatus(
      long requests, double estimateSeconds, double lowerSeconds, double upperSeconds) {

    static final ArmStatus NONE = new ArmStatus(0, Double.NaN, Double.NaN, Double.NaN);

    static ArmStatus of(QuantileBounds b) {
      return new ArmStatus(b.n(), b.estimate() / 1e9, b.lower() / 1e9, b.upper() / 1e9);
    }
  }

  /**
   * What the guardrail says now.
   *
   * @param window closed windows so far (0: none yet); the arm figures are the last one's
   * @param student the student in the last closed window
   * @param teacher the teacher in the last closed window
   * @param breach whether the last closed window breached (relative or SLO)
   * @param consecutiveBreaches breaching windows in a row up to the last closed one
   * @param openStudent costs of the student in the window being filled
   * @param openTeacher costs of the teacher in the window being filled
   * @param verdict PENDING before the first window, then PASS / HOLD / ROLLBACK (ROLLBACK stays)
   * @param reason the verdict in words, with its numbers
   */
  public record Status(
      long window,
      ArmStatus student,
      ArmStatus teacher,
      boolean breach,
      int consecutiveBreaches,
      long openStudent,
      long openTeacher,
      GuardrailVerdict verdict,
      String reason) {}

  private final Config config;
  private final Histogram student = newHistogram();
  private final Histogram teacher = newHistogram();
  private long window;
  private ArmStatus lastStudent = ArmStatus.NONE;
  private ArmStatus lastTeacher = ArmStatus.NONE;
  private boolean lastBreach;
  private int consecutive;
  private GuardrailVerdict verdict = GuardrailVerdict.PENDING;
  private String reason;

  public LatencyGuardrail(Config config) {
    this.config = config;
  }

  public LatencyGuardrail() {
    this(Config.DEFAULT);
  }

  /**
   * One request of the student: what the model cost it (queue wait + batch compute), in
   * nanoseconds.
   */
  public synchronized void recordStudent(long costNanos) {
    student.recordValue(clamp(costNanos));
    closeIfFull();
  }

  /**
   * One request of the teacher: what the model cost it (queue wait + batch compute), in
   * nanoseconds.
   */
  public synchronized void recordTeacher(long costNanos) {
    teacher.recordValue(clamp(costNanos));
    closeIfFull();
  }

  public synchronized Status status() {
    String why =
        reason != null
            ? reason
            : "collecting window 1: student "
                + student.getTotalCount()
                + ", teacher "
                + teacher.getTotalCount()
                + " of "
                + config.minRequests()
                + " requests each";
    return new Status(
        window,
        lastStudent,
        lastTeacher,
        lastBreach,
        consecutive,
        student.getTotalCount(),
        teacher.getTotalCount(),
        verdict,
        why);
  }

  private void closeIfFull() {
    if (student.getTotalCount() < config.minRequests()
        || teacher.getTotalCount() < config.minRequests()) {
      return;
    }
    QuantileBounds s = QuantileBounds.of(student, config.quantile(), config.z());
    QuantileBounds t = QuantileBounds.of(teacher, config.quantile(), config.z());
    student.reset();
    teacher.reset();
    window++;
    lastStudent = ArmStatus.of(s);
    lastTeacher = ArmStatus.of(t);
    double allowance = config.maxRatio() * t.upper() + config.toleranceNanos();
    boolean slo = config.sloNanos() > 0 && s.lower() > config.sloNanos();
    boolean relative = t.hasUpper() && s.lower() > allowance;
    lastBreach = slo || relative;
    consecutive = lastBreach ? consecutive + 1 : 0;
    if (verdict == GuardrailVerdict.ROLLBACK) {
      return;
    }
    String p = "p" + percent(config.quantile());
    String comparison =
        "window "
            + window
            + ": student "
            + p
            + " lower bound "
            + ms(s.lower())
            + (relative ? " > " : " <= ")
            + config.maxRatio()
            + " x teacher "
            + p
            + " upper bound "
            + ms(t.upper())
            + " + "
            + ms(config.toleranceNanos());
    if (slo) {
      verdict = GuardrailVerdict.ROLLBACK;
      reason =
          "window "
              + window
              + ": student "
              + p
              + " lower bound "
              + ms(s.lower())
              + " > SLO "
              + ms(config.sloNanos());
    } else if (relative) {
      verdict =
          consecutive >= config.confirmations() ? GuardrailVerdict.ROLLBACK : GuardrailVerdict.HOLD;
      reason =
          comparison
              + " ("
              + consecutive
              + " of "
              + config.confirmations()
              + " consecutive windows)";
    } else {
      verdict = GuardrailVerdict.PASS;
      reason = comparison;
    }
  }

  private static long clamp(long costNanos) {
    if (costNanos < 0) {
      throw new IllegalArgumentException("costNanos : " + costNanos + " (expected: >= 0)");
    }
    return Math.min(costNanos, HIGHEST_NANOS);
  }

  static Histogram newHistogram() {
    return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, SIGNIFICANT_DIGITS);
  }

  private static String percent(double q) {
    double p = q * 100;
    return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
  }

  private static String ms(double nanos) {
    return Double.isNaN(nanos) ? "unbounded" : String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
  }
}
