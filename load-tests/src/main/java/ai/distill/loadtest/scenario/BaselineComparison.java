package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.baseline.InProcessBaseline;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.store.ModelStore;
import java.nio.file.Path;
import java.util.List;

/**
 * Measures the in-process ONNX Runtime baseline for a model (same file, rows per batch and intra-op
 * threads as the gateway) and prints the gateway's figures as ratios of it. Stateless.
 */
public final class BaselineComparison {
  public static final String ROWS_RATIO = "gateway rows/s ÷ in-process rows/s";
  public static final String P99_GAP = "gateway p99 − in-process batch p99 (ms)";
  public static final String ACHIEVED_ROWS = "gateway rows/s achieved (offered load, not capacity)";
  public static final String IN_PROCESS_CAPACITY = "in-process capacity (rows/s)";
  public static final String NO_RATIO = "ratio to in-process";

  private BaselineComparison() {}

  /**
   * The model file for {@code model} ({@code name[:version]}): {@code modelFile} if given, else
   * from the store.
   */
  public static Path modelFile(Path modelFile, Path store, String model) {
    if (modelFile != null) {
      return modelFile;
    }
    if (store == null) {
      throw new LoadTestException(
          "the in-process baseline needs the model file: pass --model-file FILE or --store DIR");
    }
    try {
      return ModelStore.open(store).resolve(model).modelFile();
    } catch (RuntimeException e) {
      throw new LoadTestException(
          "cannot find model '" + model + "' in store " + store + ": " + e.getMessage(), e);
    }
  }

  /** Runs the baseline and adds it to {@code out} (group "baseline", target "in-process"). */
  public static Measurement measure(
      Path modelFile,
      String variant,
      List<InputRow> rows,
      int rowsPerBatch,
      int intraOpThreads,
      int workers,
      LoadOptions options,
      String group,
      BenchmarkResult out) {
    try (InProcessBaseline baseline = InProcessBaseline.open(modelFile, intraOpThreads)) {
      RunResult run = baseline.run(rows, rowsPerBatch, workers, options);
      Measurement m = Measurement.of(group, "in-process", variant, run, null);
      out.add(m);
      RampScenario.progress(m);
      return m;
    }
  }

  /**
   * Whether {@code gatewayThroughput} measured the gateway's capacity, so that dividing it by the
   * in-process maximum is a fair ratio: a closed-loop run (it sends as fast as the gateway
   * answers), or an open-loop ramp that reached saturation. An unsaturated open-loop run only
   * achieved what it offered.
   */
  public static boolean measuredCapacity(Measurement gatewayThroughput, boolean rampSaturated) {
    return "closed".equals(gatewayThroughput.mode()) || rampSaturated;
  }

  /**
   * Adds the comparison figures: when {@code capacity} (see {@link #measuredCapacity}), gateway
   * rows/s over in-process rows/s; otherwise the achieved rows/s next to the in-process capacity,
   * labelled as offered load, and a setup note saying why there is no ratio. Then the p99 gaps.
   */
  public static void compare(
      Measurement gatewayThroughput,
      boolean capacity,
      Measurement gatewayLatency,
      Measurement baseline,
      BenchmarkResult out) {
    if (gatewayThroughput != null && capacity && baseline.rowsPerSecond() > 0) {
      out.figure(ROWS_RATIO, gatewayThroughput.rowsPerSecond() / baseline.rowsPerSecond());
    } else if (gatewayThroughput != null) {
      out.figure(ACHIEVED_ROWS, gatewayThroughput.rowsPerSecond());
      out.figure(IN_PROCESS_CAPACITY, baseline.rowsPerSecond());
      out.setup(
          NO_RATIO,
          "not computed: the gateway run offered "
              + gatewayThroughput.loadLabel()
              + " open loop, which is not its capacity (use ramp, or steady --concurrency, for a capacity ratio)");
    }
    if (gatewayLatency != null) {
      out.figure(P99_GAP, gatewayLatency.latency().p99() - baseline.latency().p99());
      out.figure(
          "gateway p99 − in-process batch p50 (ms)",
          gatewayLatency.latency().p99() - baseline.latency().p50());
    }
  }
}
