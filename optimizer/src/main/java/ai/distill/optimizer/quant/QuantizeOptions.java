package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.LabelFreeComparison;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.quant.QuantMath.QType;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Options of {@link Quantizer}; immutable. Start from {@link #defaults()} or {@link #builder()}:
 *
 * <pre>{@code
 * QuantizeOptions o = QuantizeOptions.builder().method(CalibrationMethod.ENTROPY).maxAucDrop(0.001).build();
 * }</pre>
 *
 * @param method calibration range method (default percentile)
 * @param percentile two-sided percentile for {@link CalibrationMethod#PERCENTILE} (default 99.999)
 * @param activationType uint8 (default) or int8 activations
 * @param symmetricActivations symmetric activation ranges (default false: asymmetric)
 * @param perChannel per-output-channel weight scales (default true)
 * @param reduceRange 7-bit weights for AVX2 CPUs without VNNI (default false)
 * @param dynamic weights-only dynamic quantization, no calibration (default false)
 * @param histogramBins histogram bins per calibrated tensor (default 2048)
 * @param calibrationRows at most this many calibration rows (default 2000)
 * @param heldOutRows at most this many held-out rows for the gate (default 10000)
 * @param sensitivityRows held-out rows used per sensitivity trial (default 2000)
 * @param maxAucDrop gate: |ΔAUC| allowed (default 0.002)
 * @param maxMeanShift gate: relative change of the mean prediction allowed (default 0.01); the
 *     label-free gate holds the ratio of the mean predictions to [1 − it, 1 + it]
 * @param maxSoftAucGap label-free gate: source soft AUC − candidate soft AUC allowed (default
 *     0.002)
 * @param maxMeanAbsDiff label-free gate: mean |candidate − source| allowed (default 0.01)
 * @param minRankAgreement label-free gate: least Spearman rank correlation with the source (default
 *     0.98)
 * @param maxFallbacks at most this many layers are reverted to FP32 (default 8)
 * @param threads ORT intra-op threads (default 1)
 * @param speedCheck benchmark FP32 vs INT8 at batch 256 and refuse a slower result (default true)
 * @param force keep a result that fails the speed check (default false)
 * @param integerDomain search integer-domain propagation candidates (QLinearConcat, QLinearSigmoid,
 *     activation MatMuls, ...; see {@link PropagationSearch}) after the gate (default true)
 * @param embeddingBits bits per embedding table value: 8 (default) or 4 (row-wise, {@code
 *     GatherBlockQuantized})
 * @param weightBits bits per MatMul/Gemm weight value: 8 (default) or 4 (symmetric per output
 *     channel, stored packed and widened to int8 when ORT loads the model; see {@link Int4Weights})
 * @param excludedLayers layers the caller wants kept in FP32
 * @param progress receives progress (stage, fraction, line) and is asked about cancellation
 *     (default: ignore)
 */
public record QuantizeOptions(
    CalibrationMethod method,
    double percentile,
    QType activationType,
    boolean symmetricActivations,
    boolean perChannel,
    boolean reduceRange,
    boolean dynamic,
    int histogramBins,
    int calibrationRows,
    int heldOutRows,
    int sensitivityRows,
    double maxAucDrop,
    double maxMeanShift,
    double maxSoftAucGap,
    double maxMeanAbsDiff,
    double minRankAgreement,
    int maxFallbacks,
    int threads,
    boolean speedCheck,
    boolean force,
    boolean integerDomain,
    int embeddingBits,
    int weightBits,
    Set<String> excludedLayers,
    ProgressListener progress) {

  public QuantizeOptions {
    if (method == null) {
      throw new IllegalArgumentException("method : null (expected: minmax, percentile or entropy)");
    }
    if (!(percentile > 50 && percentile < 100)) {
      throw new IllegalArgumentException(
          "percentile : " + percentile + " (expected: in (50, 100))");
    }
    if (activationType == null) {
      throw new IllegalArgumentException("activationType : null (expected: UINT8 or INT8)");
    }
    positive("histogramBins", histogramBins);
    if (histogramBins < 256 || histogramBins % 2 != 0) {
      throw new IllegalArgumentException(
          "histogramBins : " + histogramBins + " (expected: even and >= 256)");
    }
    positive("calibrationRows", calibrationRows);
    positive("heldOutRows", heldOutRows);
    positive("sensitivityRows", sensitivityRows);
    positive("threads", threads);
    if (!(maxAucDrop >= 0)) {
      throw new IllegalArgumentException("maxAucDrop : " + maxAucDrop + " (expected: >= 0)");
    }
    if (!(maxMeanShift >= 0)) {
      throw new IllegalArgumentException("maxMeanShift : " + maxMeanShift + " (expected: >= 0)");
    }
    // the label-free bounds validate themselves (soft AUC gap, mean |diff| >= 0, rank agreement in
    // [-1, 1])
    new LabelFreeComparison.Bounds(maxSoftAucGap, maxMeanAbsDiff, 1.0, minRankAgreement, 0, 1);
    if (maxFallbacks < 0) {
      throw new IllegalArgumentException("maxFallbacks : " + maxFallbacks + " (expected: >= 0)");
    }
    if (embeddingBits != 8 && embeddingBits != 4) {
      throw new IllegalArgumentException(
          "embeddingBits : " + embeddingBits + " (expected: 8 or 4)");
    }
    if (weightBits != 8 && weightBits != 4) {
      throw new IllegalArgumentException("weightBits : " + weightBits + " (expected: 8 or 4)");
    }
    if (weightBits == 4 && (dynamic || !perChannel)) {
      throw new IllegalArgumentException(
          "weightBits : 4 with "
              + (dynamic ? "dynamic quantization" : "per-tensor weights")
              + " (expected: static quantization with per-channel weights)");
    }
    excludedLayers = excludedLayers == null ? Set.of() : Set.copyOf(excludedLayers);
    progress = progress == null ? ProgressListener.NONE : progress;
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " : " + v + " (expected: > 0)");
    }
  }

  /**
   * The label-free gate's bounds: {@link LabelFreeComparison.Bounds#DEFAULTS} unless changed, the
   * max absolute difference unbounded, the mean prediction ratio within [1 − maxMeanShift, 1 +
   * maxMeanShift].
   */
  public LabelFreeComparison.Bounds labelFreeBounds() {
    return new LabelFreeComparison.Bounds(
        maxSoftAucGap,
        maxMeanAbsDiff,
        1.0,
        minRankAgreement,
        Math.max(0, 1 - maxMeanShift),
        1 + maxMeanShift);
  }

  public static QuantizeOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.method = method;
    b.percentile = percentile;
    b.activationType = activationType;
    b.symmetricActivations = symmetricActivations;
    b.perChannel = perChannel;
    b.reduceRange = reduceRange;
    b.dynamic = dynamic;
    b.histogramBins = histogramBins;
    b.calibrationRows = calibrationRows;
    b.heldOutRows = heldOutRows;
    b.sensitivityRows = sensitivityRows;
    b.maxAucDrop = maxAucDrop;
    b.maxMeanShift = maxMeanShift;
    b.maxSoftAucGap = maxSoftAucGap;
    b.maxMeanAbsDiff = maxMeanAbsDiff;
    b.minRankAgreement = minRankAgreement;
    b.maxFallbacks = maxFallbacks;
    b.threads = threads;
    b.speedCheck = speedCheck;
    b.force = force;
    b.integerDomain = integerDomain;
    b.embeddingBits = embeddingBits;
    b.weightBits = weightBits;
    b.excludedLayers = excludedLayers;
    b.progress = progress;
    return b;
  }

  /** Fluent builder; {@link #build()} validates. */
  public static final class Builder {
    private CalibrationMethod method = CalibrationMethod.PERCENTILE;
    private double percentile = 99.999;
    private QType activationType = QType.UINT8;
    private boolean symmetricActivations;
    private boolean perChannel = true;
    private boolean reduceRange;
    private boolean dynamic;
    private int histogramBins = 2048;
    private int calibrationRows = 2000;
    private int heldOutRows = 10_000;
    private int sensitivityRows = 2000;
    private double maxAucDrop = 0.002;
    private double maxMeanShift = 0.01;
    private double maxSoftAucGap = LabelFreeComparison.Bounds.DEFAULTS.maxSoftAucGap();
    private double maxMeanAbsDiff = LabelFreeComparison.Bounds.DEFAULTS.maxMeanAbsDiff();
    private double minRankAgreement = LabelFreeComparison.Bounds.DEFAULTS.minSpearman();
    private int maxFallbacks = 8;
    private int threads = 1;
    private boolean speedCheck = true;
    private boolean force;
    private boolean integerDomain = true;
    private int embeddingBits = 8;
    private int weightBits = 8;
    private Set<String> excludedLayers = Set.of();
    private ProgressListener progress;

    private Builder() {}

    public Builder method(CalibrationMethod v) {
      this.method = v;
      return this;
    }

    public Builder percentile(double v) {
      this.percentile = v;
      return this;
    }

    public Builder activationType(QType v) {
      this.activationType = v;
      return this;
    }

    public Builder symmetricActivations(boolean v) {
      this.symmetricActivations = v;
      return this;
    }

    public Builder perChannel(boolean v) {
      this.perChannel = v;
      return this;
    }

    public Builder reduceRange(boolean v) {
      this.reduceRange = v;
      return this;
    }

    public Builder dynamic(boolean v) {
      this.dynamic = v;
      return this;
    }

    public Builder histogramBins(int v) {
      this.histogramBins = v;
      return this;
    }

    public Builder calibrationRows(int v) {
      this.calibrationRows = v;
      return this;
    }

    public Builder heldOutRows(int v) {
      this.heldOutRows = v;
      return this;
    }

    public Builder sensitivityRows(int v) {
      this.sensitivityRows = v;
      return this;
    }

    public Builder maxAucDrop(double v) {
      this.maxAucDrop = v;
      return this;
    }

    public Builder maxMeanShift(double v) {
      this.maxMeanShift = v;
      return this;
    }

    public Builder maxSoftAucGap(double v) {
      this.maxSoftAucGap = v;
      return this;
    }

    public Builder maxMeanAbsDiff(double v) {
      this.maxMeanAbsDiff = v;
      return this;
    }

    public Builder minRankAgreement(double v) {
      this.minRankAgreement = v;
      return this;
    }

    public Builder maxFallbacks(int v) {
      this.maxFallbacks = v;
      return this;
    }

    public Builder threads(int v) {
      this.threads = v;
      return this;
    }

    public Builder speedCheck(boolean v) {
      this.speedCheck = v;
      return this;
    }

    public Builder force(boolean v) {
      this.force = v;
      return this;
    }

    public Builder integerDomain(boolean v) {
      this.integerDomain = v;
      return this;
    }

    public Builder embeddingBits(int v) {
      this.embeddingBits = v;
      return this;
    }

    public Builder weightBits(int v) {
      this.weightBits = v;
      return this;
    }

    public Builder excludedLayers(Set<String> v) {
      this.excludedLayers = v;
      return this;
    }

    public Builder progress(ProgressListener v) {
      this.progress = v;
      return this;
    }

    /** Progress as plain lines (stages and fractions dropped). */
    public Builder progress(Consumer<String> lines) {
      this.progress = ProgressListener.lines(lines);
      return this;
    }

    public QuantizeOptions build() {
      return new QuantizeOptions(
          method,
          percentile,
          activationType,
          symmetricActivations,
          perChannel,
          reduceRange,
          dynamic,
          histogramBins,
          calibrationRows,
          heldOutRows,
          sensitivityRows,
          maxAucDrop,
          maxMeanShift,
          maxSoftAucGap,
          maxMeanAbsDiff,
          minRankAgreement,
          maxFallbacks,
          threads,
          speedCheck,
          force,
          integerDomain,
          embeddingBits,
          weightBits,
          excludedLayers,
          progress);
    }
  }
}
