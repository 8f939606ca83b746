package ai.distill.gateway.jobs;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How optimizer jobs run: the runner mechanism, the queue bound and extra JVM options for child
 * jobs. Immutable. JSON form (the {@code "jobs"} section of {@code serve --config FILE}; every key
 * optional, unknown keys rejected):
 *
 * <pre>{@code
 * "jobs": {"runner": "child", "queue_capacity": 8, "child_jvm_options": ["-Xmx2g"]}
 * }</pre>
 *
 * @param runner {@code child} (default: a child JVM at low CPU priority) or {@code in-process} (a
 *     low-priority daemon thread in the gateway)
 * @param queueCapacity jobs that may wait behind the running one; more are refused (429)
 * @param childJvmOptions extra options for a child job's JVM, e.g. a heap limit
 * @param recordsDir where job records and frozen row copies go; null: {@code <store>/jobs} (set by
 *     the gateway, not the JSON form, when instances share a store)
 */
public record JobsConfig(
    Runner runner, int queueCapacity, List<String> childJvmOptions, Path recordsDir) {

  /** Child runner, 8 queued jobs, no extra JVM options. */
  public static final JobsConfig DEFAULT = new JobsConfig(Runner.CHILD, 8, List.of());

  private static final Set<String> KEYS = Set.of("runner", "queue_capacity", "child_jvm_options");

  /** The mechanism that runs a job; the service never learns which one it has. */
  public enum Runner {
    CHILD("child"),
    IN_PROCESS("in-process");

    private final String jsonName;

    Runner(String jsonName) {
      this.jsonName = jsonName;
    }

    public String jsonName() {
      return jsonName;
    }

    /** Parses {@code child} or {@code in-process}. */
    public static Runner parse(String text) {
      for (Runner r : values()) {
        if (r.jsonName.equals(text)) {
          return r;
        }
      }
      throw new IllegalArgumentException(
          "jobs.runner : " + text + " (expected: child or in-process)");
    }
  }

  public JobsConfig {
    if (runner == null) {
      throw new IllegalArgumentException("jobs.runner : null (expected: child or in-process)");
    }
    if (queueCapacity < 1) {
      throw new IllegalArgumentException(
          "jobs.queue_capacity : " + queueCapacity + " (expected: >= 1)");
    }
    childJvmOptions = List.copyOf(childJvmOptions);
  }

  /** Records under {@code <store>/jobs}. */
  public JobsConfig(Runner runner, int queueCapacity, List<String> childJvmOptions) {
    this(runner, queueCapacity, childJvmOptions, null);
  }

  public JobsConfig withRunner(Runner r) {
    return new JobsConfig(r, queueCapacity, childJvmOptions, recordsDir);
  }

  public JobsConfig withQueueCapacity(int capacity) {
    return new JobsConfig(runner, capacity, childJvmOptions, recordsDir);
  }

  public JobsConfig withRecordsDir(Path dir) {
    return new JobsConfig(runner, queueCapacity, childJvmOptions, dir);
  }

  /** Where the records of the store rooted at {@code storeRoot} go. */
  Path recordsDir(Path storeRoot) {
    return recordsDir != null ? recordsDir : JobRepository.dirOf(storeRoot);
  }

  /** Reads the {@code "jobs"} object of a gateway config; null means {@link #DEFAULT}. */
  public static JobsConfig fromJson(JsonObject json) {
    if (json == null) {
      return DEFAULT;
    }
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "unknown key 'jobs."
                + key
                + "' (expected one of "
                + KEYS.stream().sorted().toList()
                + ")");
      }
    }
    Object runner = json.getValue("runner", DEFAULT.runner.jsonName);
    Object capacity = json.getValue("queue_capacity", DEFAULT.queueCapacity);
    Object jvm = json.getValue("child_jvm_options", new JsonArray());
    if (!(runner instanceof String r)) {
      throw new IllegalArgumentException(
          "jobs.runner : " + runner + " (expected: \"child\" or \"in-process\")");
    }
    if (!(capacity instanceof Integer c)) {
      throw new IllegalArgumentException(
          "jobs.queue_capacity : " + capacity + " (expected: an integer >= 1)");
    }
    if (!(jvm instanceof JsonArray array)) {
      throw new IllegalArgumentException(
          "jobs.child_jvm_options : "
              + jvm
              + " (expected: an array of strings, e.g. [\"-Xmx2g\"])");
    }
    List<String> options = new ArrayList<>();
    for (Object o : array) {
      if (!(o instanceof String s) || !s.startsWith("-")) {
        throw new IllegalArgumentException(
            "jobs.child_jvm_options : "
                + array
                + " (expected: JVM options as strings, each starting with '-', e.g. [\"-Xmx2g\"])");
      }
      options.add(s);
    }
    return new JobsConfig(Runner.parse(r), c, options);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("runner", runner.jsonName)
        .put("queue_capacity", queueCapacity)
        .put("child_jvm_options", new JsonArray(new ArrayList<>(childJvmOptions)));
  }
}
