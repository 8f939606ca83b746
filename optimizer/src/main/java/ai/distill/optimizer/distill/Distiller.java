package ai.distill.optimizer.distill;

import ai.distill.optimizer.eval.BinaryMetrics;
import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.table.TableScorer;
import ai.distill.optimizer.train.DataSplit;
import ai.distill.optimizer.train.EpochReport;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.optimizer.train.StudentNet;
import ai.distill.optimizer.train.TrainResult;
import ai.distill.optimizer.train.Trainer;
import ai.distill.optimizer.train.TrainingSet;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Distils a student from a teacher ONNX model on input rows (labels optional): scores the rows with
 * the teacher in ORT, trains a {@link StudentNet} on {@link DistillationLoss} with early stopping
 * on held-out rows, exports it with the teacher's signature, checks ORT reproduces the trainer
 * within 1e-5, and evaluates student against teacher. Stateless; each call owns its ORT sessions
 * and trainer threads for its duration.
 *
 * <pre>{@code
 * TeacherSignature sig = TeacherSignature.of(teacher.proto());
 * RowTable rows = RowTable.fromRows(sig.columns(), RowsReader.open(path), 0);
 * DistillResult r = Distiller.distill(teacher, "ctr:1", rows, null, DistillOptions.defaults(),
 *         ProgressListener.lines(System.err::println));
 * }</pre>
 */
public final class Distiller {

  /** Largest |ORT − trainer| allowed on the exported student's probabilities. */
  public static final double EXPORT_TOLERANCE = 1e-5;

  private Distiller() {}

  /**
   * @param teacher the teacher model
   * @param teacherId the teacher's store id (for messages), e.g. "ctr:1"
   * @param rows training rows with the teacher signature's {@link TeacherSignature#columns()}
   *     (labels optional)
   * @param evalRows labelled rows to evaluate on, or null to evaluate on the held-out rows
   * @param options settings
   * @param progress stages {@code score}, {@code train} (one line per epoch), {@code export},
   *     {@code evaluate} as fractions of this call; asked about cancellation between steps and
   *     epochs
   */
  public static DistillResult distill(
      OnnxModel teacher,
      String teacherId,
      RowTable rows,
      RowTable evalRows,
      DistillOptions options,
      ProgressListener progress) {
    TeacherSignature signature = TeacherSignature.of(teacher.proto());
    if (rows.rows() < options.minRows()) {
      throw new IllegalArgumentException(
          "too few rows: "
              + rows.rows()
              + " (expected: at least "
              + options.minRows()
              + "; a student's embedding tables need many rows — captured traffic without labels is fine)");
    }
    StudentConfig config = options.student();
    long t0 = System.nanoTime();
    float[] teacherProb;
    float[] evalTeacher = null;
    progress.checkCancelled("score");
    try (TableScorer scorer =
        TableScorer.open(
            teacher.toBytes(),
            "teacher " + teacherId,
            scoring(options, options.teacherThreads()))) {
      teacherProb = probabilities(scorer, rows, "teacher " + teacherId);
      if (evalRows != null) {
        evalTeacher = probabilities(scorer, evalRows, "teacher " + teacherId);
      }
    }
    double scoreSeconds = (System.nanoTime() - t0) / 1e9;
    progress.progress(
        "score",
        0.1,
        String.format(
            Locale.ROOT,
            "teacher %s scored %d rows in %.1f s (%.0f rows/s)",
            teacherId,
            rows.rows() + (evalRows == null ? 0 : evalRows.rows()),
            scoreSeconds,
            (rows.rows() + (evalRows == null ? 0 : evalRows.rows()))
                / Math.max(scoreSeconds, 1e-9)));

    int heldOutRows =
        (int)
            Math.max(
                1,
                Math.min(
                    options.maxHeldOutRows(), Math.round(rows.rows() * options.heldOutFraction())));
    DataSplit split = DataSplit.random(rows.rows(), heldOutRows, config.seed());
    RowTable trainTable = rows.select(split.train());
    RowTable heldTable = rows.select(split.heldOut());
    float[] trainTeacher = pick(teacherProb, split.train());
    float[] heldTeacher = pick(teacherProb, split.heldOut());
    byte[] trainLabels = trainTable.labelledRows() > 0 ? trainTable.labels() : null;
    byte[] heldLabels = heldTable.labelledRows() > 0 ? heldTable.labels() : null;
    DistillationLoss trainLoss =
        new DistillationLoss(trainTeacher, trainLabels, options.temperature(), options.alpha());
    DistillationLoss heldLoss =
        new DistillationLoss(heldTeacher, heldLabels, options.temperature(), options.alpha());
    TrainingSet train = signature.trainingSet(trainTable);
    TrainingSet held = signature.trainingSet(heldTable);
    int[] heldY = heldTable.labelValues();
    float[] heldTeacherLabelled = heldTable.labelledOnly(heldTeacher);
    progress.progress(
        "train",
        0.1,
        String.format(
            Locale.ROOT,
            "training student %s on %d rows (%d labelled), %d held out; T=%s λ=%s%s",
            describe(config),
            train.rows(),
            trainTable.labelledRows(),
            held.rows(),
            options.temperature(),
            options.alpha(),
            config.fakeQuant() ? ", fake-quant int8" : ""));

    TrainingSet evalSet = evalRows != null ? signature.trainingSet(evalRows) : null;
    int[] evalY = evalRows != null ? evalRows.labelValues() : null;
    float[] evalTeacherLabelled = evalRows != null ? evalRows.labelledOnly(evalTeacher) : null;
    TrainResult trained =
        new Trainer(config)
            .train(
                train,
                trainLoss,
                held,
                heldLoss,
                report -> {
                  String line =
                      epochLine(report, heldY, heldTable, heldTeacher, heldTeacherLabelled);
                  if (evalSet != null && evalY.length > 0) {
                    float[] p = evalRows.labelledOnly(report.student().probabilities(evalSet));
                    line +=
                        String.format(
                            Locale.ROOT,
                            "; eval AUC %.4f (teacher %.4f)",
                            BinaryMetrics.auc(p, evalY),
                            BinaryMetrics.auc(evalTeacherLabelled, evalY));
                  }
                  progress.progress(
                      "train",
                      0.1 + 0.7 * Math.min(1.0, (double) report.epoch() / config.epochs()),
                      line);
                  progress.checkCancelled("train");
                });
    StudentNet student = trained.student();

    String doc =
        "Distilled from "
            + teacherId
            + " by distill: "
            + describe(config)
            + ", T="
            + options.temperature()
            + ", alpha="
            + options.alpha();
    progress.checkCancelled("export");
    byte[] bytes = StudentExporter.export(student, signature, doc);
    RowTable checkRows = heldTable.select(firstRows(Math.min(heldTable.rows(), 2048)));
    double exportDiff;
    try (TableScorer ort = TableScorer.open(bytes, "exported student", scoring(options, 1))) {
      float[] viaOrt = ort.score(checkRows);
      float[] viaTrainer = student.probabilities(signature.trainingSet(checkRows));
      exportDiff = maxAbsDiff(viaOrt, viaTrainer);
    }
    if (!(exportDiff <= EXPORT_TOLERANCE)) {
      throw new IllegalStateException(
          "the exported student differs from the trainer by "
              + exportDiff
              + " (expected: <= "
              + EXPORT_TOLERANCE
              + "); this is a bug in the exporter");
    }

    RowTable evalTable = evalRows != null ? evalRows : heldTable;
    float[] evalTeacherProb = evalRows != null ? evalTeacher : heldTeacher;
    float[] evalStudent;
    progress.checkCancelled("evaluate");
    try (TableScorer ort =
        TableScorer.open(bytes, "exported student", scoring(options, options.teacherThreads()))) {
      evalStudent = ort.score(evalTable);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", "distill");
    m.put("teacher", teacherId);
    evaluation(
        m, evalTable, evalStudent, evalTeacherProb, evalRows != null ? "eval_rows" : "held_out");
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
    GateVerdict gate = DistillGate.judge(evalTable, evalTeacherProb, evalStudent, options.gate());
    m.put("gate", gate.toMap());
    progress.progress(
        "evaluate",
        1,
        (GateVerdict.LABEL_FREE.equals(gate.mode()) ? "label-free gate" : "gate")
            + " against the teacher on "
            + evalTable.rows()
            + " rows: "
            + (gate.passed() ? "passed" : "FAILED: " + String.join("; ", gate.violations())));
    return new DistillResult(bytes, student, trained, m, gate);
  }

  /**
   * Adds AUC/logloss/mean prediction of student and teacher and their agreement on {@code table}.
   */
  static void evaluation(
      Map<String, Object> m, RowTable table, float[] student, float[] teacher, String source) {
    int[] y = table.labelValues();
    float[] s = table.labelledOnly(student);
    float[] t = table.labelledOnly(teacher);
    m.put("eval_source", source);
    m.put("eval_rows", table.rows());
    m.put("eval_labelled_rows", y.length);
    put(m, "auc", y.length > 0 ? BinaryMetrics.auc(s, y) : Double.NaN);
    put(m, "logloss", y.length > 0 ? BinaryMetrics.logloss(s, y) : Double.NaN);
    put(m, "mean_prediction", BinaryMetrics.mean(student));
    put(m, "teacher_auc", y.length > 0 ? BinaryMetrics.auc(t, y) : Double.NaN);
    put(m, "teacher_logloss", y.length > 0 ? BinaryMetrics.logloss(t, y) : Double.NaN);
    put(m, "teacher_mean_prediction", BinaryMetrics.mean(teacher));
    put(
        m,
        "auc_delta",
        y.length > 0 ? BinaryMetrics.auc(s, y) - BinaryMetrics.auc(t, y) : Double.NaN);
    put(m, "agreement_spearman", BinaryMetrics.spearman(student, teacher));
  }

  private static String epochLine(
      EpochReport r,
      int[] heldY,
      RowTable heldTable,
      float[] heldTeacher,
      float[] heldTeacherLabelled) {
    float[] p = sigmoid(r.heldOutLogits());
    String quality;
    if (heldY.length > 0 && p.length > 0) {
      quality =
          String.format(
              Locale.ROOT,
              "held-out AUC %.4f (teacher %.4f)",
              BinaryMetrics.auc(heldTable.labelledOnly(p), heldY),
              BinaryMetrics.auc(heldTeacherLabelled, heldY));
    } else if (p.length > 0) {
      quality =
          String.format(
              Locale.ROOT, "held-out agreement %.4f", BinaryMetrics.spearman(p, heldTeacher));
    } else {
      quality = "no held-out rows";
    }
    return String.format(
        Locale.ROOT,
        "epoch %d: loss %.5f, held-out loss %.5f, %s, %.0f rows/s (%.1f s, %.1f CPU s)%s",
        r.epoch(),
        r.trainLoss(),
        r.heldOutLoss(),
        quality,
        r.rowsPerSecond(),
        r.seconds(),
        r.cpuSeconds(),
        r.improved() ? "" : " (no improvement)");
  }

  static String describe(StudentConfig c) {
    return "emb "
        + c.embeddingDim()
        + ", MLP "
        + Arrays.toString(c.hidden()).replace(" ", "")
        + ", batch "
        + c.batchSize()
        + ", lr "
        + c.learningRate()
        + ", epochs "
        + c.epochs();
  }

  private static float[] sigmoid(float[] z) {
    float[] p = new float[z.length];
    for (int i = 0; i < z.length; i++) {
      p[i] = (float) (1 / (1 + Math.exp(-z[i])));
    }
    return p;
  }

  private static TableScorer.Options scoring(DistillOptions options, int threads) {
    return new TableScorer.Options(threads, OptLevel.ALL_OPT, options.scoreBatch(), null);
  }

  /** The model's output per row, each checked to be a probability in [0, 1]. */
  static float[] probabilities(TableScorer scorer, RowTable rows, String what) {
    float[] p = scorer.score(rows);
    for (int i = 0; i < p.length; i++) {
      if (!(p[i] >= 0f && p[i] <= 1f)) {
        throw new UnsupportedTeacherException(
            what
                + " output "
                + p[i]
                + " on row "
                + (i + 1)
                + " is not a probability in [0, 1]; distillation needs a sigmoid (probability) output");
      }
    }
    return p;
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
