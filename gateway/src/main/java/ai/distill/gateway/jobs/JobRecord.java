package ai.distill.gateway.jobs;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What is known about one job, as {@code GET /admin/v1/jobs/{id}} shows it and {@code
 * <store>/jobs/<id>.json} keeps it. Immutable: every change is a new record (the {@code with...}
 * methods).
 *
 * @param id the job id (sortable by creation time)
 * @param spec what was asked for
 * @param sourceVersion the source version the job was pinned to when it was accepted, e.g. {@code
 *     ctr:3}
 * @param state where the job is
 * @param stage the optimizer's current step ({@code read}, {@code calibrate}, {@code train}...), or
 *     null
 * @param stages the steps it went through so far, in order
 * @param progress share of the job done, 0..1
 * @param created when it was accepted
 * @param started when it started running, or null
 * @param finished when it reached a final state, or null
 * @param result what it published, or null
 * @param error why it failed, was cancelled or interrupted, or null
 * @param canaryStatus {@code pending}, {@code done} or {@code failed: <why>} once a canary was
 *     requested, else null
 */
public record JobRecord(
    String id,
    JobSpec spec,
    String sourceVersion,
    State state,
    String stage,
    List<String> stages,
    double progress,
    Instant created,
    Instant started,
    Instant finished,
    Result result,
    String error,
    String canaryStatus) {

  /** A job's life: queued → running → succeeded | failed | cancelled; interrupted by a restart. */
  public enum State {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED,
    INTERRUPTED;

    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static State parse(String text) {
      return valueOf(text.toUpperCase(java.util.Locale.ROOT));
    }

    /** True for states a job never leaves. */
    public boolean isFinal() {
      return this != QUEUED && this != RUNNING;
    }
  }

  /**
   * What a job published.
   *
   * @param model the model to serve (for {@code distill+quantize}, the INT8 student)
   * @param version its version
   * @param report the optimizer's one-line summary
   */
  public record Result(String model, long version, JsonObject report) {
    public JsonObject toJson() {
      return new JsonObject().put("model", model).put("version", version).put("report", report);
    }

    static Result fromJson(JsonObject o) {
      return o == null
          ? null
          : new Result(
              o.getString("model"),
              o.getLong("version"),
              o.getJsonObject("report", new JsonObject()));
    }
  }

  public JobRecord {
    stages = List.copyOf(stages);
  }

  /** A new job, queued. */
  static JobRecord queued(String id, JobSpec spec, String sourceVersion, Instant now) {
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        State.QUEUED,
        null,
        List.of(),
        0,
        now,
        null,
        null,
        null,
        null,
        null);
  }

  JobRecord running(Instant now) {
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        State.RUNNING,
        "start",
        List.of("start"),
        0,
        created,
        now,
        null,
        null,
        null,
        null);
  }

  JobRecord progressed(String newStage, double fraction) {
    List<String> seen = stages;
    if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(newStage)) {
      seen = new ArrayList<>(stages);
      seen.add(newStage);
    }
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        state,
        newStage,
        seen,
        Math.max(progress, Math.max(0, Math.min(1, fraction))),
        created,
        started,
        finished,
        result,
        error,
        canaryStatus);
  }

  JobRecord succeeded(Result r, Instant now) {
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        State.SUCCEEDED,
        "done",
        stages,
        1,
        created,
        started,
        now,
        r,
        null,
        spec.canary() == null ? null : "pending");
  }

  JobRecord ended(State s, String why, Instant now) {
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        s,
        stage,
        stages,
        progress,
        created,
        started,
        now,
        result,
        why,
        canaryStatus);
  }

  JobRecord withCanaryStatus(String status) {
    return new JobRecord(
        id,
        spec,
        sourceVersion,
        state,
        stage,
        stages,
        progress,
        created,
        started,
        finished,
        result,
        error,
        status);
  }

  /** The API and file form. */
  public JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("id", id)
            .put("source", spec.source())
            .put("action", spec.action().jsonName())
            .put("name", spec.name())
            .put("state", state.jsonName())
            .put("stage", stage)
            .put("stages", new JsonArray(new ArrayList<>(stages)))
            .put("progress", progress)
            .put("created", text(created))
            .put("started", text(started))
            .put("finished", text(finished))
            .put("result", result == null ? null : result.toJson())
            .put("error", error)
            .put("source_version", sourceVersion)
            .put("rows", spec.rows())
            .put("options", spec.toJson().getJsonObject("options"));
    if (spec.canary() != null) {
      o.put("canary", spec.canary().toJson().put("status", canaryStatus));
    }
    return o;
  }

  /** Reads the file form. */
  static JobRecord fromJson(JsonObject o) {
    JsonObject spec =
        new JsonObject()
            .put("source", o.getString("source"))
            .put("action", o.getString("action"))
            .put("name", o.getString("name"))
            .put("rows", o.getString("rows", JobSpec.CAPTURE))
            .put("options", o.getJsonObject("options", new JsonObject()));
    JsonObject canary = o.getJsonObject("canary");
    String canaryStatus = null;
    if (canary != null) {
      canaryStatus = canary.getString("status");
      spec.put(
          "canary",
          new JsonObject()
              .put("experiment", canary.getString("experiment"))
              .put("weight", canary.getInteger("weight")));
    }
    return new JobRecord(
        o.getString("id"),
        JobSpec.fromJson(spec),
        o.getString("source_version"),
        State.parse(o.getString("state")),
        o.getString("stage"),
        strings(o.getJsonArray("stages")),
        o.getDouble("progress", 0.0),
        instant(o.getString("created")),
        instant(o.getString("started")),
        instant(o.getString("finished")),
        Result.fromJson(o.getJsonObject("result")),
        o.getString("error"),
        canaryStatus);
  }

  private static List<String> strings(JsonArray a) {
    List<String> out = new ArrayList<>();
    if (a != null) {
      for (Object o : a) {
        out.add(String.valueOf(o));
      }
    }
    return out;
  }

  private static String text(Instant t) {
    return t == null ? null : t.toString();
  }

  private static Instant instant(String s) {
    return s == null ? null : Instant.parse(s);
  }
}
