package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.eval.ThroughputBenchmark;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QdqPropagation.Candidate;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Decides, one {@link Candidate} at a time in graph order, whether to keep its tensors quantized: a
 * candidate is taken only when ORT's optimized graph gains the integer kernel it stands for, the
 * whole model runs faster than without it (side by side at batch 256) and the accuracy gate still
 * holds. Stateless; each call owns its ORT sessions.
 */
public final class PropagationSearch {

  /**
   * What was decided for one candidate.
   *
   * @param kernels integer kernels ORT formed for it (empty: not fused)
   * @param speedup rows/s with it over rows/s without it, batch 256 (NaN when not measured)
   * @param taken whether the published model keeps it
   * @param reason why not, or "faster and within the gate"
   */
  public record Decision(
      String layer, String op, Set<String> kernels, double speedup, boolean taken, String reason) {

    public Map<String, Object> toMap() {
      return Map.of(
          "layer", layer,
          "op", op,
          "fused_kernels", List.copyOf(kernels),
          "speedup", Double.isNaN(speedup) ? "not measured" : speedup,
          "taken", taken,
          "reason", reason);
    }
  }

  /** The model after the search and one decision per candidate. */
  public record Outcome(OnnxModel model, List<Decision> decisions) {}

  /** The gate's outcome after the search (same fallbacks, the searched model) and the decisions. */
  public record Searched(AccuracyGate.Outcome gated, List<Decision> decisions) {}

  /**
   * The search on a gated QDQ model: calibrates the candidates' tensors on the calibration rows
   * (their ranges are added to {@code ranges}), benchmarks with the first 256 held-out rows and
   * judges each with {@code gate}.
   */
  static Searched afterGate(
      OnnxModel fp32,
      AccuracyGate.Outcome gated,
      RowTable calibration,
      RowTable heldOut,
      Map<String, Range> ranges,
      AccuracyGate gate,
      Function<OnnxModel, AccuracyGate.Evaluation> evaluate,
      QuantizeOptions o,
      ProgressListener progress) {
    List<Candidate> candidates = QdqPropagation.find(fp32);
    if (candidates.isEmpty()) {
      return new Searched(gated, List.of());
    }
    Map<String, TensorHistogram> stats =
        Calibrator.collect(
            fp32,
            QdqPropagation.tensorsOf(candidates),
            calibration,
            o.histogramBins(),
            o.threads(),
            progress.within(0, 0.3));
    Map<String, Range> found = new LinkedHashMap<>();
    stats.forEach((t, h) -> found.put(t, o.method().range(h, o.percentile())));
    Outcome out =
        run(
            gated.model(),
            candidates,
            found,
            heldOut.slice(0, Math.min(256, heldOut.rows())),
            m -> gate.judge(evaluate.apply(m)),
            o,
            progress.within(0.3, 1));
    if (out.model() == gated.model()) {
      return new Searched(gated, out.decisions());
    }
    // the decisions were made one at a time: the result as a whole must beat where it started
    double overall =
        ThroughputBenchmark.medianRatio(
            gated.model().toBytes(),
            out.model().toBytes(),
            heldOut.slice(0, Math.min(256, heldOut.rows())),
            256,
            o.threads(),
            Duration.ofMillis(250),
            15);
    progress.progress(
        "propagate",
        1,
        String.format(
            Locale.ROOT, "integer domain: all taken together %.3fx as fast as none", overall));
    if (!(overall > MIN_SPEEDUP)) {
      List<Decision> undone = new ArrayList<>();
      for (Decision d : out.decisions()) {
        undone.add(
            d.taken()
                ? new Decision(
                    d.layer(),
                    d.op(),
                    d.kernels(),
                    d.speedup(),
                    false,
                    String.format(
                        Locale.ROOT,
                        "faster alone, but all taken together were %.3fx as fast as none: undone",
                        overall))
                : d);
      }
      return new Searched(gated, undone);
    }
    for (Decision d : out.decisions()) {
      if (d.taken()) {
        for (Candidate c : candidates) {
          if (c.layer().equals(d.layer())) {
            c.tensors().forEach(t -> ranges.putIfAbsent(t, found.get(t)));
          }
        }
      }
    }
    AccuracyGate.Evaluation e = evaluate.apply(out.model());
    return new Searched(
        new AccuracyGate.Outcome(
            out.model(), e.comparison(), gated.fellBack(), gated.reasons(), gate.judge(e)),
        out.decisions());
  }

  /**
   * The model to quantize and the decision about fusing its lookups (none when nothing to fuse).
   */
  public record Fused(OnnxModel model, List<Decision> decisions) {}

  /**
   * {@code fused} ({@link LookupFusion} of {@code source}) when its QDQ form, every layer 8-bit,
   * runs faster than the source's side by side at batch 256: one 8-bit lookup in a stacked table
   * instead of one per field. The ranges were calibrated on {@code fused}, whose activations keep
   * the source's names.
   */
  static Fused fuseLookups(
      OnnxModel source,
      OnnxModel fused,
      List<QuantTarget> fusedTargets,
      Map<String, Range> ranges,
      RowTable rows,
      QuantizeOptions o) {
    if (fused == source) {
      return new Fused(source, List.of());
    }
    List<QuantTarget> sourceTargets = Quantizer.targets(source, o);
    boolean calibrated =
        sourceTargets.stream()
            .allMatch(t -> t.activation() == null || ranges.containsKey(t.activation()));
    if (!calibrated) {
      return new Fused(source, List.of());
    }
    double speedup =
        speedup(
            QdqRewriter.rewrite(source, sourceTargets, ranges, o, Set.of()),
            QdqRewriter.rewrite(fused, fusedTargets, ranges, o, Set.of()),
            rows.slice(0, Math.min(256, rows.rows())),
            o);
    boolean taken = speedup > MIN_SPEEDUP;
    o.progress()
        .progress(
            "propagate",
            0.35,
            String.format(
                Locale.ROOT,
                "lookups: one stacked 8-bit table %.3fx as fast as one per field, %s",
                speedup,
                taken ? "fused" : "kept apart"));
    return new Fused(
        taken ? fused : source,
        List.of(
            new Decision(
                "lookups",
                "Gather",
                Set.of(),
                speedup,
                taken,
                taken
                    ? "one 8-bit lookup in a stacked table is faster than one per field"
                    : String.format(Locale.ROOT, "not faster (%.3fx)", speedup))));
  }

  /**
   * Smallest speed-up (candidate over current) that counts as faster: the median of 9 paired
   * CPU-time rounds still moves by 1–2% on a busy machine, and candidates taken on noise alone
   * added up to a slower model.
   */
  static final double MIN_SPEEDUP = 1.02;

  private PropagationSearch() {}

  /**
   * Runs the search from {@code start} (the gated QDQ model).
   *
   * @param ranges calibrated ranges of every candidate tensor
   * @param benchRows rows to benchmark with (batch 256, repeated if fewer)
   * @param gate the accuracy gate's verdict on a candidate model
   */
  public static Outcome run(
      OnnxModel start,
      List<Candidate> candidates,
      Map<String, Range> ranges,
      RowTable benchRows,
      Function<OnnxModel, GateVerdict> gate,
      QuantizeOptions o,
      ProgressListener progress) {
    return run(start, candidates, ranges, benchRows, gate, MIN_SPEEDUP, o, progress);
  }

  /**
   * {@link #run} taking a candidate only when it is more than {@code minSpeedup} times as fast as
   * the model without it.
   */
  static Outcome run(
      OnnxModel start,
      List<Candidate> candidates,
      Map<String, Range> ranges,
      RowTable benchRows,
      Function<OnnxModel, GateVerdict> gate,
      double minSpeedup,
      QuantizeOptions o,
      ProgressListener progress) {
    OnnxModel current = start;
    Map<String, Integer> currentOps = KernelCounter.count(current.toBytes(), o.threads()).ops();
    List<Decision> decisions = new ArrayList<>();
    List<Candidate> slowAlone = new ArrayList<>();
    List<Candidate> units = new ArrayList<>(candidates);
    for (int i = 0; ; i++) {
      if (i == candidates.size()) {
        units.addAll(groups(slowAlone)); // candidates that pay off only together with neighbours
      }
      if (i >= units.size()) {
        break;
      }
      Candidate c = units.get(i);
      progress.checkCancelled("propagate");
      OnnxModel next = QdqPropagation.apply(current, Set.copyOf(c.tensors()), ranges, o);
      if (next.graph().getNodeCount() == current.graph().getNodeCount()) {
        decisions.add(
            new Decision(
                c.layer(),
                c.op(),
                Set.of(),
                Double.NaN,
                true,
                "its tensors are already quantized (by a neighbour's decision)"));
        continue;
      }
      Map<String, Integer> nextOps = KernelCounter.count(next.toBytes(), o.threads()).ops();
      Set<String> fused = new TreeSet<>(QdqPropagation.gained(currentOps, nextOps).keySet());
      fused.retainAll(c.kernels());
      if (fused.isEmpty()) {
        decisions.add(
            new Decision(
                c.layer(),
                c.op(),
                fused,
                Double.NaN,
                false,
                "ORT did not fuse it into " + c.kernels() + ": a Q/DQ pair would only add work"));
        progress(progress, i, units.size(), c, "not fused, skipped");
        continue;
      }
      double deviation = fusedDeviation(next, benchRows);
      if (!(deviation <= o.maxMeanAbsDiff())) {
        decisions.add(
            new Decision(
                c.layer(),
                c.op(),
                fused,
                Double.NaN,
                false,
                String.format(
                    Locale.ROOT,
                    "ORT's fused kernel is %.4f (mean |diff|) away from the QDQ graph it replaces",
                    deviation)));
        progress(progress, i, units.size(), c, "fused kernel deviates, skipped");
        continue;
      }
      double speedup = speedup(current, next, benchRows, o);
      if (!(speedup > minSpeedup)) {
        if (i < candidates.size()) {
          slowAlone.add(c);
        }
        decisions.add(
            new Decision(
                c.layer(),
                c.op(),
                fused,
                speedup,
                false,
                String.format(
                    Locale.ROOT,
                    "not faster (%.3fx)%s",
                    speedup,
                    i < candidates.size() ? " alone" : "")));
        progress(
            progress, i, units.size(), c, String.format(Locale.ROOT, "%.3fx, skipped", speedup));
        continue;
      }
      GateVerdict v = gate.apply(next);
      if (!v.passed()) {
        decisions.add(
            new Decision(
                c.layer(),
                c.op(),
                fused,
                speedup,
                false,
                "accuracy gate fails with it: " + String.join("; ", v.violations())));
        progress(progress, i, units.size(), c, "fails the gate, skipped");
        continue;
      }
      decisions.add(
          new Decision(c.layer(), c.op(), fused, speedup, true, "faster and within the gate"));
      progress(progress, i, units.size(), c, String.format(Locale.ROOT, "%.3fx, taken", speedup));
      current = next;
      currentOps = nextOps;
    }
    return new Outcome(current, List.copyOf(decisions));
  }

  /**
   * Candidates that share tensors, joined (connected components of at least two), then all of them
   * together when that differs from every component: a chain such as MatMul → Mul → Softmax →
   * MatMul pays off only when its Q/DQ pairs cancel each other.
   */
  static List<Candidate> groups(List<Candidate> slow) {
    List<List<Candidate>> components = new ArrayList<>();
    for (Candidate c : slow) {
      List<Candidate> joined = new ArrayList<>(List.of(c));
      for (java.util.Iterator<List<Candidate>> it = components.iterator(); it.hasNext(); ) {
        List<Candidate> comp = it.next();
        boolean shares =
            comp.stream().anyMatch(m -> m.tensors().stream().anyMatch(c.tensors()::contains));
        if (shares) {
          joined.addAll(comp);
          it.remove();
        }
      }
      components.add(joined);
    }
    List<Candidate> out = new ArrayList<>();
    for (List<Candidate> comp : components) {
      if (comp.size() > 1) {
        out.add(join(comp));
      }
    }
    if (slow.size() > 1 && (components.size() > 1 || out.isEmpty())) {
      out.add(join(slow));
    }
    return out;
  }

  private static Candidate join(List<Candidate> members) {
    Set<String> tensors = new java.util.LinkedHashSet<>();
    Set<String> kernels = new TreeSet<>();
    List<String> layers = new ArrayList<>();
    for (Candidate m : members) {
      tensors.addAll(m.tensors());
      kernels.addAll(m.kernels());
      layers.add(m.layer());
    }
    return new Candidate("together" + layers, "group", List.copyOf(tensors), Set.copyOf(kernels));
  }

  private static void progress(ProgressListener progress, int i, int n, Candidate c, String what) {
    progress.progress(
        "propagate", (i + 1.0) / n, "integer domain: " + c.op() + " " + c.layer() + ": " + what);
  }

  /**
   * Mean |difference| of the first output between ORT with every optimization (fused integer
   * kernels) and with basic optimizations only (the QDQ graph as written, Q and DQ run one by one):
   * how far a fused kernel strays from the arithmetic it stands for.
   */
  static double fusedDeviation(OnnxModel model, RowTable rows) {
    String output = model.outputs().get(0).name();
    byte[] bytes = model.toBytes();
    float[] fusedOut =
        Evaluator.predict(
            bytes, rows, output, new TableScorer.Options(1, OptLevel.ALL_OPT, 256, null));
    float[] reference =
        Evaluator.predict(
            bytes, rows, output, new TableScorer.Options(1, OptLevel.BASIC_OPT, 256, null));
    double sum = 0;
    for (int i = 0; i < fusedOut.length; i++) {
      sum += Math.abs(fusedOut[i] - reference[i]);
    }
    return fusedOut.length == 0 ? 0 : sum / fusedOut.length;
  }

  /** Rows/s of {@code candidate} over rows/s of {@code current}, side by side at batch 256. */
  static double speedup(OnnxModel current, OnnxModel candidate, RowTable rows, QuantizeOptions o) {
    return ThroughputBenchmark.medianRatio(
        current.toBytes(), candidate.toBytes(), rows, 256, o.threads(), Duration.ofMillis(120), 9);
  }
}
