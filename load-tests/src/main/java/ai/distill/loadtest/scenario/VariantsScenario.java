package ai.distill.loadtest.scenario;

import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Throughput of several variants (e.g. FP32 teacher, INT8, distilled student) through the same
 * gateway, each at the same closed-loop concurrency with the same rows; optionally each variant's
 * in-process baseline too (needs the store). Every variant is checked before any load. Stateless.
 */
public final class VariantsScenario {
  private VariantsScenario() {}

  /**
   * @param store the gateway's store for the in-process baselines, or null to skip them
   */
  public static List<Measurement> run(
      GatewayTarget first,
      List<String> models,
      int concurrency,
      LoadOptions options,
      Path store,
      int intraOpThreads,
      BenchmarkResult out) {
    List<GatewayTarget> targets = new ArrayList<>();
    for (String model : models) {
      targets.add(model.equals(first.model()) ? first : first.forModel(model));
    }
    List<Measurement> gateway = new ArrayList<>();
    for (GatewayTarget t : targets) {
      ClosedLoopGenerator generator = new ClosedLoopGenerator(t.sender(false), options);
      Measurement m = t.measure("variants", () -> generator.run(concurrency));
      out.add(m);
      RampScenario.progress(m);
      gateway.add(m);
      if (store != null) {
        Path file = BaselineComparison.modelFile(null, store, t.model());
        BaselineComparison.measure(
            file,
            t.model(),
            t.rows(),
            t.spec().rowsPerRequest(),
            intraOpThreads,
            1,
            options,
            "variants",
            out);
      }
    }
    Measurement reference = gateway.get(0);
    for (Measurement m : gateway.subList(1, gateway.size())) {
      if (reference.rowsPerSecond() > 0) {
        out.figure(
            String.format(
                Locale.ROOT, "%s rows/s ÷ %s rows/s (gateway)", m.variant(), reference.variant()),
            m.rowsPerSecond() / reference.rowsPerSecond());
      }
    }
    return gateway;
  }
}
