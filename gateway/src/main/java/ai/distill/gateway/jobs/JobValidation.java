package ai.distill.gateway.jobs;

import ai.distill.gateway.capture.RecentRows;
import ai.distill.gateway.jobs.JobRejectedException.Reason;
import ai.distill.store.ModelNotFoundException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.Role;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a job is checked against before it is queued, its id, the rejections of a busy service (the
 * source exists and can take the action, the result's name is new and valid, enough captured rows
 * exist) and what its finished summary says it published. Stateless.
 */
final class JobValidation {

  /** A job that passed the checks: its resolved source and the task a runner will run. */
  record Accepted(ModelVersion source, JobRunner.Task task) {}

  private JobValidation() {}

  /**
   * Checks {@code spec} against the store.
   *
   * @throws JobRejectedException 404 for an unknown source, 400 for anything else wrong
   */
  static Accepted check(
      ModelStore store,
      java.nio.file.Path jobsDir,
      JobSpec spec,
      String id,
      ExternalRows external) {
    ModelVersion source;
    try {
      source = store.resolve(spec.source());
    } catch (ModelNotFoundException e) {
      throw new JobRejectedException(Reason.NOT_FOUND, "source: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new JobRejectedException(Reason.BAD_REQUEST, "source: " + e.getMessage());
    }
    JobRunner.Task task;
    try {
      ModelStore.checkName(spec.name());
      if (spec.action() == JobSpec.Action.DISTILL_QUANTIZE) {
        ModelStore.checkName(spec.name() + "-int8");
      }
      if (spec.name().equals(source.name())) {
        throw new IllegalArgumentException(
            "name: '"
                + spec.name()
                + "' is the source model's own name "
                + "(expected: a new name for the result, e.g. '"
                + source.name()
                + "-int8')");
      }
      if (spec.action() != JobSpec.Action.QUANTIZE && source.role() != Role.TEACHER) {
        throw new IllegalArgumentException(
            "action: "
                + spec.action().jsonName()
                + " needs a teacher, but "
                + source.id()
                + " is a "
                + source.role()
                + " (its manifest role)"
                + (source.manifest().parent() == null
                    ? ""
                    : "; distill from its parent " + source.manifest().parent() + " instead")
                + ", or quantize it");
      }
      // captures shared by several instances (a Kafka topic) are read from there, not from files
      String captured =
          spec.capturedRows()
              ? external.capturedRows(
                  spec.rows().equals(JobSpec.CAPTURE)
                      ? spec.sourceModel()
                      : spec.rows().substring(JobSpec.CAPTURE.length() + 1))
              : null;
      String from = captured != null ? captured : spec.rows();
      boolean uri = ExternalRows.isUri(from);
      java.nio.file.Path rows =
          uri ? jobsDir.resolve(id + ".source.rows.jsonl") : spec.rowsPath(store.root());
      if (uri) {
        copyExternal(external, from, rows);
      }
      if (spec.capturedRows() || uri) {
        long needed = JobArguments.minRows(spec);
        long have = RowCounter.count(rows, needed);
        if (have < needed) {
          throw new IllegalArgumentException(
              "rows: "
                  + have
                  + " captured rows of '"
                  + spec.rows()
                  + "' exist in "
                  + rows
                  + ", "
                  + needed
                  + " are needed (capture more traffic, e.g. POST "
                  + "/admin/v1/capture, or lower options.min_rows)");
        }
      }
      int recent = JobArguments.recentRows(spec);
      if (recent > 0) {
        rows = newestRows(rows, recent, jobsDir.resolve(id + ".rows.jsonl"));
      }
      task = JobArguments.task(id, spec, store.root(), source.id(), rows);
    } catch (IllegalArgumentException e) {
      throw new JobRejectedException(Reason.BAD_REQUEST, e.getMessage());
    }
    return new Accepted(source, task);
  }

  // The job reads a frozen copy of the rows a URI holds (e.g. a Kafka topic) when it is accepted.
  private static void copyExternal(ExternalRows external, String uri, java.nio.file.Path copy) {
    try {
      external.copy(uri, copy);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("rows: cannot read '" + uri + "': " + e.getMessage(), e);
    }
  }

  // The job reads a frozen copy of the newest rows: the capture keeps growing while it runs.
  private static java.nio.file.Path newestRows(
      java.nio.file.Path rows, int recent, java.nio.file.Path copy) {
    try {
      RecentRows.copyNewest(rows, recent, copy);
      return copy;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot copy the newest rows of " + rows + ": " + e, e);
    }
  }

  /** The model a summary says the job published (for distill+quantize, the INT8 student). */
  static JobRecord.Result result(JobSpec.Action action, JsonObject summary) {
    String key =
        switch (action) {
          case QUANTIZE -> "published";
          case DISTILL -> "student";
          case DISTILL_QUANTIZE -> "int8_student";
        };
    String published = summary.getString(key);
    int colon = published == null ? -1 : published.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("no \"" + key + "\": \"<model>:<version>\"");
    }
    return new JobRecord.Result(
        published.substring(0, colon), Long.parseLong(published.substring(colon + 1)), summary);
  }

  /** The source model's name of a job (from its resolved version when known). */
  static String sourceName(JobRecord r) {
    String v = r.sourceVersion();
    return v != null && v.lastIndexOf(':') > 0
        ? v.substring(0, v.lastIndexOf(':'))
        : r.spec().sourceModel();
  }

  private static final DateTimeFormatter ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

  /** A new job id: the time, then 4 random hex digits. */
  static String newId(Instant now) {
    return ID_TIME.format(now)
        + "-"
        + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
  }

  /** 409: another job for the same source is queued or running. */
  static JobRejectedException busy(String source, String active, JobRecord.State state) {
    return new JobRejectedException(
        Reason.CONFLICT,
        "source: a job for '"
            + source
            + "' is already "
            + state.jsonName()
            + ": "
            + active
            + " (wait for it, or cancel it with POST /admin/v1/jobs/"
            + active
            + "/cancel)");
  }

  /** 429: the bounded queue is full. */
  static JobRejectedException queueFull(int waiting, int capacity) {
    return new JobRejectedException(
        Reason.QUEUE_FULL,
        "the job queue is full ("
            + waiting
            + " jobs waiting, jobs.queue_capacity "
            + capacity
            + "): retry once a job finished");
  }
}
