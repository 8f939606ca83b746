package ai.distill.gateway.experiment.stats;

/**
 * Always-valid sample-ratio-mismatch test (Lindon &amp; Malek, "Anytime-valid inference for
 * multinomial count data", 2022): the Dirichlet-multinomial mixture Bayes factor of the observed
 * counts against the designed split is a test martingale, so its running maximum gives a p-value
 * that may be read after every arrival without inflating false alarms. Not thread-safe: the owning
 * experiment serializes access.
 *
 * <pre>
 * SequentialSrm srm = new SequentialSrm(SequentialSrm.DEFAULT_ALPHA, SequentialSrm.DEFAULT_CONCENTRATION);
 * SequentialSrm.Result r = srm.update(new long[] {5_012, 4_988}, new double[] {50, 50}); // cumulative counts
 * srm.restart();                  // the weights changed and the counts start again from 0
 * SequentialSrm.State saved = srm.state();    // four numbers to persist; SequentialSrm.restore(..) resumes
 * </pre>
 */
public final class SequentialSrm {

  /** Alarm threshold on the always-valid p-value. */
  public static final double DEFAULT_ALPHA = 0.001;

  /**
   * Prior concentration: α_i = 100·θ_i, as in Lindon &amp; Malek's examples and Optimizely's
   * implementation.
   */
  public static final double DEFAULT_CONCENTRATION = 100;

  private final double alpha;
  private final double concentration;
  private double maxLogBayesFactor;
  private double carriedLogBayesFactor;
  private double segmentLogBayesFactor;
  private long segmentObservations;

  /**
   * What to persist to resume the test: the running maximum of the log Bayes factor (it is the
   * p-value: p = min(1, e^−max)), the log factor carried from segments closed by {@link
   * #restart()}, the current segment's log factor and its number of observations.
   */
  public record State(
      double maxLogBayesFactor,
      double carriedLogBayesFactor,
      double segmentLogBayesFactor,
      long segmentObservations) {}

  /**
   * One reading.
   *
   * @param pValue always-valid p-value, the running minimum of 1/BF clipped at 1
   * @param logBayesFactor the current log Bayes factor against the designed split (carried segments
   *     included)
   * @param observations the counts of this segment on arms with positive weight
   * @param alarm pValue &lt; alpha
   */
  public record Result(double pValue, double logBayesFactor, long observations, boolean alarm) {}

  public SequentialSrm(double alpha, double concentration) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha : " + alpha + " (expected: 0 < alpha < 1)");
    }
    if (!(concentration > 0 && Double.isFinite(concentration))) {
      throw new IllegalArgumentException("concentration : " + concentration + " (expected: > 0)");
    }
    this.alpha = alpha;
    this.concentration = concentration;
  }

  /** A test with the defaults: alarm below 0.001, concentration 100. */
  public SequentialSrm() {
    this(DEFAULT_ALPHA, DEFAULT_CONCENTRATION);
  }

  /** Resumes a test from its persisted {@link State}. */
  public static SequentialSrm restore(double alpha, double concentration, State state) {
    SequentialSrm srm = new SequentialSrm(alpha, concentration);
    if (!(state.maxLogBayesFactor() >= 0)
        || Double.isNaN(state.carriedLogBayesFactor())
        || Double.isNaN(state.segmentLogBayesFactor())
        || state.segmentObservations() < 0) {
      throw new IllegalArgumentException(
          "state : "
              + state
              + " (expected: maxLogBayesFactor >= 0, "
              + "finite log factors, segmentObservations >= 0)");
    }
    srm.maxLogBayesFactor = state.maxLogBayesFactor();
    srm.carriedLogBayesFactor = state.carriedLogBayesFactor();
    srm.segmentLogBayesFactor = state.segmentLogBayesFactor();
    srm.segmentObservations = state.segmentObservations();
    return srm;
  }

  public State state() {
    return new State(
        maxLogBayesFactor, carriedLogBayesFactor, segmentLogBayesFactor, segmentObservations);
  }

  public double alpha() {
    return alpha;
  }

  /**
   * Reads the test on the cumulative counts of the current segment. Arms with weight 0 are left out
   * (as the chi-square display does); with fewer than two weighted arms nothing is tested. Counts
   * may only grow within a segment.
   *
   * @param counts assignments per arm since the segment began (since the last {@link #restart()})
   * @param weights the designed split, any positive scale
   */
  public Result update(long[] counts, double[] weights) {
    if (counts.length != weights.length) {
      throw new IllegalArgumentException(
          "weights : " + weights.length + " arms (expected: " + counts.length + ", one per count)");
    }
    double totalWeight = 0;
    long n = 0;
    int arms = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        throw new IllegalArgumentException(
            "counts[" + i + "] : " + counts[i] + " (expected: >= 0)");
      }
      if (!(weights[i] >= 0 && Double.isFinite(weights[i]))) {
        throw new IllegalArgumentException(
            "weights[" + i + "] : " + weights[i] + " (expected: >= 0)");
      }
      if (weights[i] > 0) {
        totalWeight += weights[i];
        n += counts[i];
        arms++;
      }
    }
    if (arms < 2) {
      return result(segmentObservations);
    }
    if (n < segmentObservations) {
      throw new IllegalArgumentException(
          "counts : "
              + n
              + " in total (expected: >= "
              + segmentObservations
              + " as counts only grow; call restart() when they start over)");
    }
    // log BF = log B(α + x) − log B(α) − Σ x_i log θ_i, with B the multivariate beta function.
    double logBf = ChiSquare.logGamma(concentration) - ChiSquare.logGamma(concentration + n);
    for (int i = 0; i < counts.length; i++) {
      if (weights[i] > 0) {
        double theta = weights[i] / totalWeight;
        double a = concentration * theta;
        logBf +=
            ChiSquare.logGamma(a + counts[i]) - ChiSquare.logGamma(a) - counts[i] * Math.log(theta);
      }
    }
    segmentLogBayesFactor = logBf;
    segmentObservations = n;
    maxLogBayesFactor = Math.max(maxLogBayesFactor, carriedLogBayesFactor + logBf);
    return result(n);
  }

  /**
   * Starts a new segment, for when the designed split changed and the counts start again from 0.
   * The factor reached so far is carried over multiplicatively (a product of test martingales is
   * one), so the false alarm guarantee holds across segments and an alarm never disappears.
   */
  public void restart() {
    carriedLogBayesFactor += segmentLogBayesFactor;
    segmentLogBayesFactor = 0;
    segmentObservations = 0;
  }

  /** The current reading without new counts. */
  public Result current() {
    return result(segmentObservations);
  }

  private Result result(long n) {
    double p = Math.min(1, Math.exp(-maxLogBayesFactor));
    return new Result(p, carriedLogBayesFactor + segmentLogBayesFactor, n, p < alpha);
  }
}
