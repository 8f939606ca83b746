package ai.distill.optimizer.quant;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.eval.Evaluator;
import ai.distill.optimizer.eval.ModelComparison;
import ai.distill.optimizer.eval.RowsScorer;
import ai.distill.optimizer.eval.ThroughputBenchmark;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.CalibrationMethod.Range;
import ai.distill.optimizer.quant.QuantizationException.Reason;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsReader;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Static (QDQ) or dynamic INT8 quantization of an ONNX model, gated on accuracy: calibrate on
 * some rows, rewrite, evaluate on other (held-out) rows, measure each layer's sensitivity, and
 * revert the most sensitive layers to FP32 one at a time until the gate holds. Stateless and
 * thread-safe; each call owns and closes its ORT sessions.
 *
 * <pre>{@code
 * QuantizeResult r = Quantizer.quantize(Path.of("model.onnx"), Path.of("rows.jsonl"), QuantizeOptions.defaults());
 * System.out.print(r.report().toTable());
 * Files.write(out, r.model());
 * }</pre>
 */
public final class Quantizer {

    /** Fewest held-out rows the gate accepts. */
    public static final int MIN_HELD_OUT_ROWS = 20;

    /** Calibration and held-out rows, disjoint. */
    public record Split(List<Row> calibration, List<Row> heldOut) {
    }

    private Quantizer() {
    }

    /**
     * The deterministic split: the first half of the rows (at most {@code calibrationRows}) calibrates,
     * the second half (at most {@code heldOutRows}) is held out for the gate.
     */
    public static Split split(List<Row> rows, QuantizeOptions o) {
        int half = rows.size() / 2;
        List<Row> cal = rows.subList(0, Math.min(half, o.calibrationRows()));
        List<Row> held = rows.subList(half, Math.min(rows.size(), half + o.heldOutRows()));
        return new Split(List.copyOf(cal), List.copyOf(held));
    }

    /** Reads rows (JSONL, a file or a directory of capture segments); at most {@code limit}. */
    public static List<Row> readRows(Path rows, int limit) {
        return RowsReader.readAll(rows, limit);
    }

    /** Quantizes a model file with rows from a JSONL file, split by {@link #split}. */
    public static QuantizeResult quantize(Path model, Path rows, QuantizeOptions o) throws IOException {
        OnnxModel m = OnnxModel.load(model);
        List<Row> all = readRows(rows, 2 * Math.max(o.calibrationRows(), o.heldOutRows()));
        Split s = split(all, o);
        return quantize(m, s.calibration(), s.heldOut(), o);
    }

    public static QuantizeResult quantize(Path model, List<Row> calibration, List<Row> heldOut, QuantizeOptions o)
            throws IOException {
        return quantize(OnnxModel.load(model), calibration, heldOut, o);
    }

    public static QuantizeResult quantize(OnnxModel model, List<Row> calibration, List<Row> heldOut,
            QuantizeOptions o) {
        List<QuantTarget> targets = new ArrayList<>();
        for (QuantTarget t : QuantTarget.find(model)) {
            if (!o.excludedLayers().contains(t.layer())) {
                targets.add(t);
            }
        }
        if (targets.isEmpty()) {
            throw new QuantizationException(Reason.NO_QUANTIZABLE_NODES, "the model has no quantizable nodes"
                    + (o.excludedLayers().isEmpty() ? "" : " left after excluding " + o.excludedLayers())
                    + " (looked for MatMul/Gemm with a 2-D float initializer weight and Gather on a 2-D float"
                    + " initializer table); nothing was written");
        }
        QdqRewriter.checkOpset(model);
        if (heldOut.size() < MIN_HELD_OUT_ROWS) {
            throw new QuantizationException(Reason.NOT_ENOUGH_ROWS, "held-out rows: " + heldOut.size()
                    + " (need at least " + MIN_HELD_OUT_ROWS + " rows that are not calibration rows to check accuracy)");
        }
        byte[] fp32 = model.toBytes();
        List<String> warnings = new ArrayList<>();

        Map<String, Range> ranges = new LinkedHashMap<>();
        if (!o.dynamic()) {
            ranges = calibrate(model, targets, calibration, o);
        }
        Map<String, Range> finalRanges = ranges;
        Function<Set<String>, OnnxModel> build = fp32Layers -> o.dynamic()
                ? DynamicRewriter.rewrite(model, targets, o, fp32Layers)
                : QdqRewriter.rewrite(model, targets, finalRanges, o, fp32Layers);

        RowsScorer.Options scoring = new RowsScorer.Options(o.threads(), OptLevel.ALL_OPT, 256, null);
        String output = model.outputs().get(0).name();
        o.progress().accept("evaluating FP32 on " + heldOut.size() + " held-out rows");
        float[] fp32Held = Evaluator.predict(fp32, heldOut, output, scoring);

        List<Row> sens = heldOut.subList(0, Math.min(heldOut.size(), o.sensitivityRows()));
        float[] fp32Sens = Arrays.copyOf(fp32Held, sens.size());
        OnnxModel full = build.apply(Set.of());
        List<LayerReport> layers = sensitivity(model, full, targets, build, sens, fp32Sens, output, scoring, o);

        Set<String> fellBackSet = new LinkedHashSet<>();
        OnnxModel current = full;
        ModelComparison cmp = Evaluator.compare(fp32Held,
                Evaluator.predict(current.toBytes(), heldOut, output, scoring), heldOut);
        List<LayerReport> order = new ArrayList<>(layers);
        boolean labelled = !Double.isNaN(cmp.reference().auc());
        order.sort(Comparator.comparingDouble((LayerReport l) -> labelled && !Double.isNaN(l.aucDeltaAlone())
                ? -Math.abs(l.aucDeltaAlone()) : -l.meanAbsDiffAlone()).thenComparingDouble(LayerReport::sqnrDb));
        Map<String, String> reasons = new LinkedHashMap<>();
        while (!passes(cmp, o)) {
            if (fellBackSet.size() >= o.maxFallbacks() || fellBackSet.size() >= targets.size() - 1) {
                throw new QuantizationException(Reason.ACCURACY_GATE, String.format(Locale.ROOT,
                        "accuracy gate failed: dAUC %.5f (allowed %s), mean prediction change %.4f (allowed %s) on %d"
                                + " held-out rows after reverting %s to FP32; try --method entropy or minmax, more"
                                + " calibration rows, or a larger --max-auc-drop",
                        cmp.aucDelta(), o.maxAucDrop(), cmp.meanPredictionRelativeChange(), o.maxMeanShift(),
                        heldOut.size(), fellBackSet));
            }
            LayerReport worst = order.get(fellBackSet.size());
            String why = String.format(Locale.ROOT, "gate failed with it int8: dAUC %.5f, dmean %.4f; most sensitive left",
                    cmp.aucDelta(), cmp.meanPredictionRelativeChange());
            fellBackSet.add(worst.layer());
            reasons.put(worst.layer(), why);
            o.progress().accept("gate failed (dAUC " + String.format(Locale.ROOT, "%.5f", cmp.aucDelta())
                    + "); reverting " + worst.layer() + " to FP32");
            current = build.apply(fellBackSet);
            cmp = Evaluator.compare(fp32Held, Evaluator.predict(current.toBytes(), heldOut, output, scoring), heldOut);
        }
        List<LayerReport> finalLayers = new ArrayList<>();
        for (LayerReport l : layers) {
            finalLayers.add(fellBackSet.contains(l.layer()) ? l.withFallback(reasons.get(l.layer())) : l);
        }

        current = current.withMetadata("distill.quantization", (o.dynamic() ? "dynamic" : "static-qdq ")
                + (o.dynamic() ? "" : o.method().jsonName()));
        byte[] int8 = current.toBytes();
        KernelCounter.Kernels kernels = KernelCounter.count(int8, o.threads());
        if (kernels.integerKernels() == 0) {
            String w = "NO integer kernels formed: ONNX Runtime kept every quantized layer in float (ops: " + kernels.ops()
                    + "); this INT8 model will not run faster than FP32";
            warnings.add(w);
            o.progress().accept("WARNING: " + w);
        } else {
            long matmuls = targets.stream().filter(t -> t.kind() != QuantTarget.Kind.GATHER
                    && !fellBackSet.contains(t.layer())).count();
            if (kernels.integerKernels() < matmuls) {
                String w = "only " + kernels.integerKernels() + " of " + matmuls + " quantized MatMul/Gemm layers became"
                        + " integer kernels (ops: " + kernels.ops() + ")" + (o.symmetricActivations()
                        ? "; symmetric activations keep each Relu before its QuantizeLinear, drop --symmetric" : "");
                warnings.add(w);
                o.progress().accept("WARNING: " + w);
            }
        }
        ThroughputBenchmark.Result speed = null;
        if (o.speedCheck()) {
            o.progress().accept("benchmarking FP32 vs INT8 at batch 256");
            speed = ThroughputBenchmark.compare(fp32, int8, heldOut, new int[] {256}, o.threads(),
                    Duration.ofMillis(300), 6).get(0);
            if (speed.ratio() < 1.0) {
                String msg = String.format(Locale.ROOT, "the INT8 model is SLOWER than its source: %.0f vs %.0f rows/s"
                        + " (%.2fx) at batch 256; ORT formed %d integer kernel(s), %d float matmul(s) left",
                        speed.candidateRowsPerSecond(), speed.referenceRowsPerSecond(), speed.ratio(),
                        kernels.integerKernels(), kernels.floatMatmuls());
                if (o.symmetricActivations()) {
                    msg += " (symmetric activations put a non-minimum zero point after each Relu, so ORT keeps the"
                            + " Relu and cannot fuse it; drop --symmetric)";
                }
                if (!o.force()) {
                    throw new QuantizationException(Reason.SLOWER_THAN_SOURCE, msg
                            + "; not publishing it (use --force to publish anyway)");
                }
                warnings.add(msg + "; kept because force was set");
                o.progress().accept("WARNING: " + msg + "; kept because force was set");
            }
        }
        QuantizeReport report = new QuantizeReport(o.dynamic() ? "dynamic" : "static-qdq",
                o.dynamic() ? "none" : o.method().jsonName(), o.percentile(), o.activationType().name(),
                o.symmetricActivations(), o.perChannel(), o.reduceRange(), o.dynamic() ? 0 : calibration.size(),
                heldOut.size(), sens.size(), finalLayers, ranges, cmp, o.maxAucDrop(), o.maxMeanShift(), true,
                List.copyOf(fellBackSet), kernels, model.sizeBytes(), int8.length, speed, List.copyOf(warnings));
        return new QuantizeResult(int8, report);
    }

    static boolean passes(ModelComparison c, QuantizeOptions o) {
        boolean auc = Double.isNaN(c.aucDelta()) || Math.abs(c.aucDelta()) <= o.maxAucDrop();
        double shift = c.meanPredictionRelativeChange();
        boolean mean = Double.isNaN(shift) || Math.abs(shift) <= o.maxMeanShift();
        return auc && mean;
    }

    private static Map<String, Range> calibrate(OnnxModel model, List<QuantTarget> targets, List<Row> calibration,
            QuantizeOptions o) {
        Set<String> activations = new LinkedHashSet<>();
        for (QuantTarget t : targets) {
            if (t.activation() != null) {
                activations.add(t.activation());
            }
        }
        int floor = o.method().minimumRows(o.percentile(), 1);
        if (calibration.size() < Math.min(floor, o.method() == CalibrationMethod.PERCENTILE ? 100 : floor)) {
            throw notEnough(calibration.size(), floor, o);
        }
        Map<String, Range> ranges = new LinkedHashMap<>();
        if (activations.isEmpty()) {
            return ranges;
        }
        Map<String, TensorHistogram> stats = Calibrator.collect(model, activations, calibration, o.histogramBins(),
                o.threads(), o.progress());
        long widest = 1;
        for (TensorHistogram h : stats.values()) {
            widest = Math.max(widest, h.count() / Math.max(1, calibration.size()));
        }
        int needed = o.method().minimumRows(o.percentile(), widest);
        if (calibration.size() < needed) {
            throw notEnough(calibration.size(), needed, o);
        }
        for (Map.Entry<String, TensorHistogram> e : stats.entrySet()) {
            if (e.getValue().nonFinite() > 0) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' produced " + e.getValue().nonFinite()
                        + " NaN/infinite values during calibration; check the rows");
            }
            ranges.put(e.getKey(), o.method().range(e.getValue(), o.percentile()));
        }
        return ranges;
    }

    private static QuantizationException notEnough(int have, int needed, QuantizeOptions o) {
        return new QuantizationException(Reason.NOT_ENOUGH_ROWS, "calibration rows: " + have + " (the "
                + o.method().jsonName() + " method needs at least " + needed + " rows"
                + (o.method() == CalibrationMethod.PERCENTILE ? " at percentile " + o.percentile() : "")
                + "; supply more rows or use --method minmax)");
    }

    /** SQNR of each layer's output in the fully quantized model, and the effect of quantizing each layer alone. */
    private static List<LayerReport> sensitivity(OnnxModel model, OnnxModel full, List<QuantTarget> targets,
            Function<Set<String>, OnnxModel> build, List<Row> rows, float[] fp32Preds,
            String output, RowsScorer.Options scoring, QuantizeOptions o) {
        // a Gather's own output may be renamed in the quantized model (its DequantizeLinear moves after
        // shape-only ops); compare the first tensor downstream that both models still produce
        Map<String, NodeProto> quantProducers = full.producers();
        Map<String, List<NodeProto>> fp32Consumers = model.consumers();
        Map<String, String> compared = new LinkedHashMap<>();
        for (QuantTarget t : targets) {
            String name = t.output();
            while (!quantProducers.containsKey(name) && fp32Consumers.getOrDefault(name, List.of()).size() == 1) {
                name = fp32Consumers.get(name).get(0).getOutput(0);
            }
            compared.put(t.layer(), name);
        }
        Set<String> outs = new LinkedHashSet<>(compared.values());
        outs.removeIf(n -> !quantProducers.containsKey(n));
        o.progress().accept("sensitivity: SQNR of " + outs.size() + " layer outputs on " + rows.size() + " rows");
        Map<String, double[]> power = sqnrPowers(model, full, outs, rows, scoring);
        boolean labelled = rows.stream().anyMatch(r -> r.label() != null);
        double fp32Auc = Evaluator.report(fp32Preds, rows).auc();
        double fp32Mean = BinaryMetrics.mean(fp32Preds);
        List<LayerReport> layers = new ArrayList<>();
        Set<String> all = new HashSet<>();
        targets.forEach(t -> all.add(t.layer()));
        int k = 0;
        for (QuantTarget t : targets) {
            o.progress().accept("sensitivity: layer " + (++k) + "/" + targets.size() + " " + t.layer());
            Set<String> others = new HashSet<>(all);
            others.remove(t.layer());
            float[] p = Evaluator.predict(build.apply(others).toBytes(), rows, output, scoring);
            double sum = 0;
            for (int i = 0; i < p.length; i++) {
                sum += Math.abs(p[i] - fp32Preds[i]);
            }
            double[] pw = power.getOrDefault(compared.get(t.layer()), new double[] {Double.NaN, Double.NaN});
            layers.add(new LayerReport(t.layer(), t.kind().name().charAt(0) + t.kind().name().substring(1).toLowerCase(Locale.ROOT),
                    t.weight(), QuantMath.sqnrDb(pw[0], pw[1]),
                    labelled ? Evaluator.report(p, rows).auc() - fp32Auc : Double.NaN,
                    (BinaryMetrics.mean(p) - fp32Mean) / fp32Mean, sum / Math.max(1, p.length), true, ""));
        }
        return layers;
    }

    /**
     * Signal and noise power per tensor: Σx² of FP32 and Σ(x−y)² against the quantized model, streamed one batch
     * at a time through both models so that activations are never all held.
     */
    private static Map<String, double[]> sqnrPowers(OnnxModel fp32, OnnxModel quantized, Set<String> tensors,
            List<Row> rows, RowsScorer.Options scoring) {
        Map<String, String> names = new LinkedHashMap<>();
        tensors.forEach(t -> names.put(t + Calibrator.SUFFIX, t));
        Map<String, double[]> power = new LinkedHashMap<>();
        tensors.forEach(t -> power.put(t, new double[2]));
        RowsScorer.Options o = scoring.withOptimization(OptLevel.NO_OPT);
        try (RowsScorer a = RowsScorer.open(Calibrator.augment(fp32, tensors).toBytes(), o);
             RowsScorer b = RowsScorer.open(Calibrator.augment(quantized, tensors).toBytes(), o)) {
            for (int from = 0; from < rows.size(); from += o.batchSize()) {
                List<Row> chunk = rows.subList(from, Math.min(rows.size(), from + o.batchSize()));
                Map<String, float[]> ref = new LinkedHashMap<>();
                a.forEachBatch(chunk, names.keySet(), (first, n, outputs) -> ref.putAll(outputs));
                b.forEachBatch(chunk, names.keySet(), (first, n, outputs) -> {
                    for (Map.Entry<String, float[]> e : outputs.entrySet()) {
                        float[] x = ref.get(e.getKey());
                        float[] y = e.getValue();
                        double[] p = power.get(names.get(e.getKey()));
                        for (int i = 0; i < y.length; i++) {
                            double d = y[i] - x[i];
                            p[0] += (double) x[i] * x[i];
                            p[1] += d * d;
                        }
                    }
                });
            }
        }
        return power;
    }
}
