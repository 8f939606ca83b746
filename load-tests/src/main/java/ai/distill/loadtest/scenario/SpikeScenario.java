package ai.distill.loadtest.scenario;

import ai.distill.loadtest.generator.PhasedLoad;
import ai.distill.loadtest.generator.PhasedLoad.Phase;
import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.generator.WindowResult;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * A spike: {@code base} rate, then {@code spike} rate (typically 2× saturation) for a few seconds,
 * then {@code base} again. Counts 429s and 5xx separately, reports the p99 of the admitted requests
 * during the spike, and the recovery time: from the spike's end until the first 1 s in which every
 * 250 ms bucket is error-free with a p99 within 3× the pre-spike p99 (+1 ms). Checks: zero 5xx, and
 * recovery within the after phase. Stateless.
 */
public final class SpikeScenario {
  public static final Duration BUCKET = Duration.ofMillis(250);

  private SpikeScenario() {}

  public static void run(
      GatewayTarget target,
      double baseRate,
      double spikeRate,
      Duration before,
      Duration spike,
      Duration after,
      int maxOutstanding,
      Duration drainTimeout,
      BenchmarkResult out) {
    List<Phase> phases =
        List.of(
            new Phase("before", baseRate, before),
            new Phase("spike", spikeRate, spike),
            new Phase("after", baseRate, after));
    PhasedLoad load = new PhasedLoad(target.sender(false), maxOutstanding, drainTimeout, BUCKET);
    PhasedLoad.Result[] holder = new PhasedLoad.Result[1];
    Measurement whole =
        target.measure(
            "spike",
            () -> {
              holder[0] = load.run(phases);
              return new RunResult(
                  "open",
                  spikeRate,
                  holder[0].perPhase(),
                  true,
                  WindowResult.merge(holder[0].perPhase()));
            });
    summarize(target.model(), holder[0], whole, out);
  }

  /**
   * Adds the per-phase measurements, the figures (429s, 5xx, p99 during the spike, recovery) and
   * the checks for a finished spike run; {@code whole} is the run as one measurement (with the
   * server split when it was scraped). Pure: no I/O beyond the progress line.
   */
  public static void summarize(
      String model, PhasedLoad.Result result, Measurement whole, BenchmarkResult out) {
    List<Phase> phases = result.phases();
    Duration after = phases.get(phases.size() - 1).duration();
    for (int i = 0; i < phases.size(); i++) {
      Phase p = phases.get(i);
      WindowResult w = result.perPhase().get(i);
      Measurement m =
          Measurement.of(
              "spike",
              "gateway",
              model + " (" + p.name() + ")",
              new RunResult("open", p.rate(), List.of(w), true, w),
              i == 1 ? whole.server() : null);
      out.add(m);
      RampScenario.progress(m);
    }
    WindowResult pre = result.phase("before");
    WindowResult during = result.phase("spike");
    long fiveXx = whole.serverErrors();
    long transport =
        whole.outcomes().entrySet().stream()
            .filter(e -> !Character.isDigit(e.getKey().charAt(0)))
            .mapToLong(java.util.Map.Entry::getValue)
            .sum();
    double limit = Math.max(3 * pre.p99Millis(), pre.p99Millis() + 1.0);
    int settle = (int) (Duration.ofSeconds(1).toNanos() / BUCKET.toNanos());
    double recovery =
        PhasedLoad.recoverySeconds(result, result.firstBucket("after"), settle, limit);
    out.figure("spike: 429 responses", whole.count("429"));
    out.figure("spike: 5xx responses", fiveXx);
    out.figure("spike: p99 of admitted requests during the spike (ms)", during.latency().p99());
    out.figure("spike: recovery time (s)", recovery);
    out.check(
        "zero 5xx during the spike",
        fiveXx == 0 && transport == 0,
        String.format(
            Locale.ROOT,
            "429×%d, 5xx×%d, transport errors×%d, admitted during spike %d of %d",
            whole.count("429"),
            fiveXx,
            transport,
            during.okRequests(),
            during.sent() + during.clientSaturated()));
    out.check(
        "recovers after the spike",
        recovery >= 0,
        recovery >= 0
            ? String.format(
                Locale.ROOT,
                "healthy %.2f s after the spike (p99 ≤ %.2f ms, no errors for 1 s)",
                recovery,
                limit)
            : String.format(
                Locale.ROOT,
                "not healthy within the %.2f s after the spike (p99 limit %.2f ms)",
                after.toNanos() / 1e9,
                limit));
  }
}
