package ai.distill.optimizer.distill;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.train.DataSplit;
import ai.distill.optimizer.train.EpochReport;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.optimizer.train.StudentNet;
import ai.distill.optimizer.train.TrainResult;
import ai.distill.optimizer.train.Trainer;
import ai.distill.optimizer.train.TrainingSet;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Distils a student from a teacher ONNX model on input rows (labels optional): scores the rows with
 * the teacher in ORT, trains a {@link StudentNet} on {@link DistillationLoss} with early stopping on
 * held-out rows, exports it with the teacher's signature, checks ORT reproduces the trainer within
 * 1e-5, and evaluates student against teacher. Stateless; each call owns its ORT sessions and
 * trainer threads for its duration.
 *
 * <pre>{@code
 * TeacherSignature sig = TeacherSignature.of(teacher.proto());
 * InputTable rows = InputTable.fromRows(sig, RowsReader.open(path), 0);
 * DistillResult r = Distiller.distill(teacher, "ctr:1", rows, null, DistillOptions.defaults(), System.err::println);
 * }</pre>
 */
public final class Distiller {

    /** Largest |ORT − trainer| allowed on the exported student's probabilities. */
    public static final double EXPORT_TOLERANCE = 1e-5;

    private Distiller() {
    }

    /**
     * @param teacher the teacher model
     * @param teacherId the teacher's store id (for messages), e.g. "ctr:1"
     * @param rows training rows for the teacher's signature (labels optional)
     * @param evalRows labelled rows to evaluate on, or null to evaluate on the held-out rows
     * @param options settings
     * @param progress receives one human-readable line per step and epoch
     */
    public static DistillResult distill(OnnxModel teacher, String teacherId, InputTable rows, InputTable evalRows,
            DistillOptions options, Consumer<String> progress) {
        TeacherSignature signature = rows.signature();
        if (rows.rows() < options.minRows()) {
            throw new IllegalArgumentException("too few rows: " + rows.rows() + " (expected: at least "
                    + options.minRows() + "; a student's embedding tables need many rows — captured traffic without labels is fine)");
        }
        StudentConfig config = options.student();
        long t0 = System.nanoTime();
        float[] teacherProb;
        float[] evalTeacher = null;
        try (TableScorer scorer = new TableScorer(teacher.toBytes(), options.teacherThreads(), "teacher " + teacherId)) {
            teacherProb = scorer.probabilities(rows, options.scoreBatch());
            if (evalRows != null) {
                evalTeacher = scorer.probabilities(evalRows, options.scoreBatch());
            }
        }
        double scoreSeconds = (System.nanoTime() - t0) / 1e9;
        progress.accept(String.format(Locale.ROOT, "teacher %s scored %d rows in %.1f s (%.0f rows/s)", teacherId,
                rows.rows() + (evalRows == null ? 0 : evalRows.rows()), scoreSeconds,
                (rows.rows() + (evalRows == null ? 0 : evalRows.rows())) / Math.max(scoreSeconds, 1e-9)));

        int heldOutRows = (int) Math.max(1, Math.min(options.maxHeldOutRows(), Math.round(rows.rows() * options.heldOutFraction())));
        DataSplit split = DataSplit.random(rows.rows(), heldOutRows, config.seed());
        InputTable trainTable = rows.select(split.train());
        InputTable heldTable = rows.select(split.heldOut());
        float[] trainTeacher = pick(teacherProb, split.train());
        float[] heldTeacher = pick(teacherProb, split.heldOut());
        byte[] trainLabels = trainTable.labelledRows() > 0 ? trainTable.labels() : null;
        byte[] heldLabels = heldTable.labelledRows() > 0 ? heldTable.labels() : null;
        DistillationLoss trainLoss = new DistillationLoss(trainTeacher, trainLabels, options.temperature(), options.alpha());
        DistillationLoss heldLoss = new DistillationLoss(heldTeacher, heldLabels, options.temperature(), options.alpha());
        TrainingSet train = trainTable.toTrainingSet();
        TrainingSet held = heldTable.toTrainingSet();
        int[] heldY = labelsOf(heldTable);
        float[] heldTeacherLabelled = labelledOnly(heldTeacher, heldTable);
        progress.accept(String.format(Locale.ROOT, "training student %s on %d rows (%d labelled), %d held out; T=%s λ=%s%s",
                describe(config), train.rows(), trainTable.labelledRows(), held.rows(), options.temperature(),
                options.alpha(), config.fakeQuant() ? ", fake-quant int8" : ""));

        TrainingSet evalSet = evalRows != null ? evalRows.toTrainingSet() : null;
        int[] evalY = evalRows != null ? labelsOf(evalRows) : null;
        float[] evalTeacherLabelled = evalRows != null ? labelledOnly(evalTeacher, evalRows) : null;
        TrainResult trained = new Trainer(config).train(train, trainLoss, held, heldLoss, report -> {
            String line = epochLine(report, heldY, heldTable, heldTeacher, heldTeacherLabelled);
            if (evalSet != null && evalY.length > 0) {
                float[] p = labelledOnly(report.student().probabilities(evalSet), evalRows);
                line += String.format(Locale.ROOT, "; eval AUC %.4f (teacher %.4f)", BinaryMetrics.auc(p, evalY),
                        BinaryMetrics.auc(evalTeacherLabelled, evalY));
            }
            progress.accept(line);
        });
        StudentNet student = trained.student();

        String doc = "Distilled from " + teacherId + " by distill: " + describe(config) + ", T=" + options.temperature()
                + ", alpha=" + options.alpha();
        byte[] bytes = StudentExporter.export(student, signature, doc);
        InputTable checkRows = heldTable.select(firstRows(Math.min(heldTable.rows(), 2048)));
        double exportDiff;
        try (TableScorer ort = new TableScorer(bytes, 1, "exported student")) {
            float[] viaOrt = ort.score(checkRows, options.scoreBatch());
            float[] viaTrainer = student.probabilities(checkRows.toTrainingSet());
            exportDiff = maxAbsDiff(viaOrt, viaTrainer);
        }
        if (!(exportDiff <= EXPORT_TOLERANCE)) {
            throw new IllegalStateException("the exported student differs from the trainer by " + exportDiff
                    + " (expected: <= " + EXPORT_TOLERANCE + "); this is a bug in the exporter");
        }

        InputTable evalTable = evalRows != null ? evalRows : heldTable;
        float[] evalTeacherProb = evalRows != null ? evalTeacher : heldTeacher;
        float[] evalStudent;
        try (TableScorer ort = new TableScorer(bytes, options.teacherThreads(), "exported student")) {
            evalStudent = ort.score(evalTable, options.scoreBatch());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "distill");
        m.put("teacher", teacherId);
        evaluation(m, evalTable, evalStudent, evalTeacherProb, evalRows != null ? "eval_rows" : "held_out");
        ModelCost teacherCost = ModelCost.of(teacher);
        ModelCost studentCost = ModelCost.of(OnnxModel.fromBytes(bytes));
        put(m, "flops_per_row", studentCost.flopsPerRow());
        put(m, "teacher_flops_per_row", teacherCost.flopsPerRow());
        put(m, "flops_ratio", ratio(studentCost.flopsPerRow(), teacherCost.flopsPerRow()));
        put(m, "params", studentCost.parameters());
        put(m, "teacher_params", teacherCost.parameters());
        put(m, "params_ratio", ratio(studentCost.parameters(), teacherCost.parameters()));
        put(m, "size_bytes", studentCost.bytes());
        put(m, "teacher_size_bytes", teacherCost.bytes());
        put(m, "size_ratio", ratio(studentCost.bytes(), teacherCost.bytes()));
        m.put("embedding_dim", config.embeddingDim());
        m.put("hidden", Arrays.toString(config.hidden()).replace(" ", ""));
        put(m, "temperature", options.temperature());
        put(m, "alpha", options.alpha());
        m.put("fake_quant", config.fakeQuant());
        m.put("seed", config.seed());
        m.put("train_rows", train.rows());
        m.put("labelled_train_rows", trainTable.labelledRows());
        m.put("held_out_rows", held.rows());
        m.put("epochs_run", trained.epochs().size());
        m.put("best_epoch", trained.bestEpoch());
        put(m, "train_seconds", round(trained.trainSeconds(), 3));
        put(m, "train_rows_per_second", Math.round(trained.rowsPerSecond()));
        put(m, "train_cpu_seconds", round(trained.cpuSeconds(), 3));
        put(m, "teacher_score_seconds", round(scoreSeconds, 3));
        put(m, "export_max_abs_diff", exportDiff);
        return new DistillResult(bytes, student, trained, m);
    }

    /** Adds AUC/logloss/mean prediction of student and teacher and their agreement on {@code table}. */
    static void evaluation(Map<String, Object> m, InputTable table, float[] student, float[] teacher, String source) {
        int[] y = labelsOf(table);
        float[] s = labelledOnly(student, table);
        float[] t = labelledOnly(teacher, table);
        m.put("eval_source", source);
        m.put("eval_rows", table.rows());
        m.put("eval_labelled_rows", y.length);
        put(m, "auc", y.length > 0 ? BinaryMetrics.auc(s, y) : Double.NaN);
        put(m, "logloss", y.length > 0 ? BinaryMetrics.logloss(s, y) : Double.NaN);
        put(m, "mean_prediction", BinaryMetrics.mean(student));
        put(m, "teacher_auc", y.length > 0 ? BinaryMetrics.auc(t, y) : Double.NaN);
        put(m, "teacher_logloss", y.length > 0 ? BinaryMetrics.logloss(t, y) : Double.NaN);
        put(m, "teacher_mean_prediction", BinaryMetrics.mean(teacher));
        put(m, "auc_delta", y.length > 0 ? BinaryMetrics.auc(s, y) - BinaryMetrics.auc(t, y) : Double.NaN);
        put(m, "agreement_spearman", BinaryMetrics.spearman(student, teacher));
    }

    private static String epochLine(EpochReport r, int[] heldY, InputTable heldTable, float[] heldTeacher,
            float[] heldTeacherLabelled) {
        float[] p = sigmoid(r.heldOutLogits());
        String quality;
        if (heldY.length > 0 && p.length > 0) {
            quality = String.format(Locale.ROOT, "held-out AUC %.4f (teacher %.4f)",
                    BinaryMetrics.auc(labelledOnly(p, heldTable), heldY), BinaryMetrics.auc(heldTeacherLabelled, heldY));
        } else if (p.length > 0) {
            quality = String.format(Locale.ROOT, "held-out agreement %.4f", BinaryMetrics.spearman(p, heldTeacher));
        } else {
            quality = "no held-out rows";
        }
        return String.format(Locale.ROOT, "epoch %d: loss %.5f, held-out loss %.5f, %s, %.0f rows/s (%.1f s, %.1f CPU s)%s",
                r.epoch(), r.trainLoss(), r.heldOutLoss(), quality, r.rowsPerSecond(), r.seconds(), r.cpuSeconds(),
                r.improved() ? "" : " (no improvement)");
    }

    static String describe(StudentConfig c) {
        return "emb " + c.embeddingDim() + ", MLP " + Arrays.toString(c.hidden()).replace(" ", "") + ", batch "
                + c.batchSize() + ", lr " + c.learningRate() + ", epochs " + c.epochs();
    }

    private static float[] sigmoid(float[] z) {
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (float) (1 / (1 + Math.exp(-z[i])));
        }
        return p;
    }

    static int[] labelsOf(InputTable t) {
        byte[] l = t.labels();
        int[] y = new int[t.labelledRows()];
        int k = 0;
        for (byte b : l) {
            if (b >= 0) {
                y[k++] = b;
            }
        }
        return y;
    }

    static float[] labelledOnly(float[] values, InputTable t) {
        byte[] l = t.labels();
        float[] out = new float[t.labelledRows()];
        int k = 0;
        for (int i = 0; i < l.length; i++) {
            if (l[i] >= 0) {
                out[k++] = values[i];
            }
        }
        return out;
    }

    private static float[] pick(float[] a, int[] rows) {
        float[] out = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = a[rows[i]];
        }
        return out;
    }

    private static int[] firstRows(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : round((double) a / b, 5);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    static void put(Map<String, Object> m, String key, double value) {
        if (Double.isFinite(value)) {
            m.put(key, value);
        }
    }

    static void put(Map<String, Object> m, String key, long value) {
        m.put(key, value);
    }
}
