package ai.distill.optimizer.distill;

import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.RowsReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One distillation job against a model store: resolve the teacher, read (or generate) rows, distil,
 * publish the student (role student, parent = teacher, evaluation in the manifest) and, on request,
 * its INT8 version. Everything is checked, trained and gated before anything is published, so a
 * failure, a failed gate ({@link DistillGate}: the student against the teacher, labelled or
 * label-free; the INT8 student against the FP32 student and, without labels, the teacher) or a
 * cancellation leaves the store untouched. Stateless; used by the {@code distill} command and the
 * gateway's jobs. The quantize counterpart is {@link ai.distill.optimizer.quant.QuantizeJob}.
 *
 * <pre>{@code
 * DistillJob.Outcome o = DistillJob.run(ModelStore.open(dir),
 *         new DistillJob.Request("ctr", Path.of("rows.jsonl"), 0, null, 0, "ctr-student", DistillOptions.defaults(), false),
 *         System.err::println);
 * }</pre>
 */
public final class DistillJob {

  /**
   * What to distil.
   *
   * @param teacher teacher spec, {@code name[:version]}
   * @param data training rows (file or capture directory), or null with {@code generatedRows > 0}
   * @param generatedRows rows to generate from the fixture's input distribution instead of reading
   *     data
   * @param eval labelled evaluation rows, or null for the held-out rows
   * @param maxRows read at most this many training rows (0: all)
   * @param name the student's model name
   * @param options distillation settings
   * @param int8 also quantize the student and publish {@code <name>-int8}
   */
  public record Request(
      String teacher,
      Path data,
      int generatedRows,
      Path eval,
      int maxRows,
      String name,
      DistillOptions options,
      boolean int8) {}

  /**
   * What a job published.
   *
   * @param student the published student
   * @param int8Student the published INT8 student, or null
   * @param result the distillation result
   * @param summary the one-line JSON summary as a map
   */
  public record Outcome(
      ModelVersion student,
      ModelVersion int8Student,
      DistillResult result,
      Map<String, Object> summary) {}

  private DistillJob() {}

  /**
   * Runs the job with progress as plain lines; see {@link #run(ModelStore, Request,
   * ProgressListener)}.
   */
  public static Outcome run(ModelStore store, Request request, Consumer<String> lines) {
    return run(store, request, ProgressListener.lines(lines));
  }

  /**
   * Runs the job, reporting stages {@code read}, {@code score}, {@code train}, {@code export},
   * {@code evaluate}, {@code int8} and {@code publish} to {@code progress} and stopping when it
   * asks; throws {@link IllegalArgumentException} (or a store exception) on bad input and {@link
   * ai.distill.optimizer.job.JobCancelledException} when cancelled.
   */
  public static Outcome run(ModelStore store, Request request, ProgressListener progress) {
    ModelStore.checkName(request.name());
    if (request.int8()) {
      ModelStore.checkName(request.name() + "-int8");
    }
    if ((request.data() == null) == (request.generatedRows() <= 0)) {
      throw new IllegalArgumentException(
          "give training rows or a number of rows to generate, not "
              + (request.data() == null ? "neither" : "both"));
    }
    ModelVersion teacherVersion = store.resolve(request.teacher());
    OnnxModel teacher;
    try {
      teacher = OnnxModel.load(teacherVersion.modelFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read teacher " + teacherVersion.id() + ": " + e, e);
    }
    TeacherSignature signature = TeacherSignature.of(teacher.proto());
    progress.progress("read", 0, "teacher " + teacherVersion.id() + ": " + signature);
    long t0 = System.nanoTime();
    RowTable rows;
    if (request.data() != null) {
      try (RowsReader reader = RowsReader.open(request.data())) {
        rows = RowTable.fromRows(signature.columns(), reader, request.maxRows());
      }
    } else {
      rows =
          FixtureInputs.generate(
              signature, request.generatedRows(), request.options().student().seed());
    }
    RowTable evalRows = null;
    if (request.eval() != null) {
      try (RowsReader reader = RowsReader.open(request.eval())) {
        evalRows = RowTable.fromRows(signature.columns(), reader, 0);
      }
      if (evalRows.labelledRows() == 0) {
        throw new IllegalArgumentException(
            "evaluation rows "
                + request.eval()
                + " have no labels (expected: rows with \"label\": 0|1)");
      }
    }
    progress.progress(
        "read",
        0.05,
        String.format(
            Locale.ROOT,
            "%s %d rows (%d labelled)%s in %.1f s",
            request.data() != null ? "read" : "generated",
            rows.rows(),
            rows.labelledRows(),
            evalRows == null ? "" : ", " + evalRows.rows() + " evaluation rows",
            (System.nanoTime() - t0) / 1e9));

    progress.checkCancelled("read");
    DistillResult result =
        Distiller.distill(
            teacher,
            teacherVersion.id(),
            rows,
            evalRows,
            request.options(),
            progress.within(0.05, request.int8() ? 0.85 : 0.97));
    DistillGate.check("the student", result.gate());
    Map<String, Object> metrics = new LinkedHashMap<>(result.metrics());
    ModelVersion int8Version = null;
    byte[] int8Bytes = null;
    Map<String, Object> int8Metrics = null;
    if (request.int8()) {
      Int8Chain.Int8Student q =
          Int8Chain.quantize(
              result.model(),
              teacher.toBytes(),
              rows,
              evalRows,
              request.options(),
              progress.within(0.85, 0.97));
      int8Bytes = q.model();
      int8Metrics = q.metrics();
    }
    progress.checkCancelled("publish");
    ModelVersion published =
        store.publish(
            PublishRequest.fromBytes(
                request.name(), result.model(), Role.STUDENT, teacherVersion.id(), metrics));
    progress.progress("publish", int8Bytes == null ? 1 : 0.98, "published " + published.id());
    if (int8Bytes != null) {
      Map<String, Object> manifestMetrics = new LinkedHashMap<>(int8Metrics);
      manifestMetrics.put("teacher", teacherVersion.id());
      int8Version =
          store.publish(
              PublishRequest.fromBytes(
                  request.name() + "-int8",
                  int8Bytes,
                  Role.STUDENT,
                  published.id(),
                  manifestMetrics));
      progress.progress("publish", 1, "published " + int8Version.id());
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("student", published.id());
    summary.put("teacher", teacherVersion.id());
    if (int8Version != null) {
      summary.put("int8_student", int8Version.id());
    }
    summary.putAll(result.metrics());
    if (int8Metrics != null) {
      for (Map.Entry<String, Object> e : int8Metrics.entrySet()) {
        if (e.getKey().equals(ReferenceSketch.METRICS_KEY)) {
          continue; // in the manifest, too large for the one-line summary
        }
        summary.put("int8_" + e.getKey(), e.getValue());
      }
    }
    return new Outcome(published, int8Version, result, summary);
  }
}
