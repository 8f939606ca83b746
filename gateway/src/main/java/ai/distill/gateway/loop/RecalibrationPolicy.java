package ai.distill.gateway.loop;

import ai.distill.store.ModelStore;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * When to recalibrate one served INT8 model from captured traffic: once at least {@code minRows}
 * rows were captured since its current version was published, and either the PSI of the newest
 * {@code windowRows} captured rows against its calibration sketch passes {@code psiThreshold} on
 * some input column, or {@code intervalSeconds} passed since its last recalibration; never within
 * {@code cooldownSeconds} of the last one. The job quantizes the model's parent (its manifest
 * lineage) on the newest {@code windowRows} rows under the model's own name, with the CLI's {@code
 * options}, and canaries the result when {@code canaryExperiment} is set. Immutable.
 *
 * <pre>{@code
 * {"model": "ctr-student-int8", "rows": "capture:ctr-ab", "min_rows": 2000, "psi_threshold": 0.2,
 *  "interval_seconds": 0, "cooldown_seconds": 600, "check_seconds": 30,
 *  "options": {"method": "percentile"}, "canary": {"experiment": "ctr-ab", "weight": 5}}
 * }</pre>
 *
 * @param model the served INT8 model watched (and the name its recalibrated versions get)
 * @param rows the capture stream to watch and calibrate on ({@code capture:<stream>}), by default
 *     the model's own ({@code capture:<model>})
 * @param minRows new captured rows needed before any recalibration
 * @param windowRows newest rows the PSI is computed on and the job calibrates on (at least {@code
 *     minRows})
 * @param psiThreshold a column PSI above this starts a recalibration (0.25 = a real shift)
 * @param intervalSeconds recalibrate on this schedule too (0: only on drift)
 * @param cooldownSeconds least time between two recalibrations of the model
 * @param checkSeconds how often the drift is computed
 * @param options the quantize command's options, as the job API takes them
 * @param canaryExperiment the experiment to canary the result in, or null
 * @param canaryWeight the canary's percent of traffic
 */
public record RecalibrationPolicy(
    String model,
    String rows,
    long minRows,
    int windowRows,
    double psiThreshold,
    long intervalSeconds,
    long cooldownSeconds,
    long checkSeconds,
    JsonObject options,
    String canaryExperiment,
    int canaryWeight) {

  static final Set<String> KEYS =
      Set.of(
          "model",
          "rows",
          "min_rows",
          "window_rows",
          "psi_threshold",
          "interval_seconds",
          "cooldown_seconds",
          "check_seconds",
          "options",
          "canary");

  public static final String EXAMPLE =
      "{\"model\": \"ctr-int8\", \"rows\": \"capture:ctr-ab\", \"min_rows\": 2000, "
          + "\"psi_threshold\": 0.2, \"cooldown_seconds\": 600, "
          + "\"canary\": {\"experiment\": \"ctr-ab\", \"weight\": 5}}";

  public RecalibrationPolicy {
    options = options == null ? new JsonObject() : options.copy();
  }

  /**
   * Reads a policy (the admin API's body or one entry of the config's {@code "policies"}).
   *
   * @throws IllegalArgumentException naming the field that is wrong and what it expects
   */
  public static RecalibrationPolicy fromJson(JsonObject o) {
    if (o == null) {
      throw new IllegalArgumentException("policy: expected a JSON object like " + EXAMPLE);
    }
    for (String key : o.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "policy: unknown key '"
                + key
                + "' (accepted keys: "
                + List.copyOf(new java.util.TreeSet<>(KEYS))
                + ")");
      }
    }
    if (!(o.getValue("model") instanceof String model) || model.isBlank()) {
      throw new IllegalArgumentException(
          "model: " + o.getValue("model") + " (expected: the served INT8 model to watch)");
    }
    try {
      ModelStore.checkName(model);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model: " + e.getMessage());
    }
    Object rowsValue = o.getValue("rows", "capture:" + model);
    if (!(rowsValue instanceof String rows) || !rows.startsWith("capture:") || rows.length() < 9) {
      throw new IllegalArgumentException(
          "rows: "
              + rowsValue
              + " (expected: the capture stream to watch, \"capture:<stream>\", e.g. "
              + "\"capture:ctr-ab\" for an experiment's traffic)");
    }
    try {
      ModelStore.checkName(rows.substring("capture:".length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("rows: " + e.getMessage());
    }
    long minRows = whole(o, "min_rows", 2_000, 100, 10_000_000);
    long windowRows = whole(o, "window_rows", Math.max(minRows, 2_000), minRows, 1_000_000);
    double psi = o.getValue("psi_threshold", 0.2) instanceof Number n ? n.doubleValue() : -1;
    if (!(psi > 0) || Double.isInfinite(psi)) {
      throw new IllegalArgumentException(
          "psi_threshold: "
              + o.getValue("psi_threshold")
              + " (expected: a number > 0; 0.1 moderate, 0.25 a real shift)");
    }
    long interval = whole(o, "interval_seconds", 0, 0, 365L * 86_400);
    long cooldown = whole(o, "cooldown_seconds", 600, 0, 365L * 86_400);
    long check = whole(o, "check_seconds", 30, 1, 86_400);
    Object optionsValue = o.getValue("options", new JsonObject());
    if (!(optionsValue instanceof JsonObject options)) {
      throw new IllegalArgumentException(
          "options: "
              + optionsValue
              + " (expected: the quantize command's options, e.g. {\"method\": \"percentile\"})");
    }
    String experiment = null;
    int weight = 0;
    Object canaryValue = o.getValue("canary");
    if (canaryValue != null) {
      if (!(canaryValue instanceof JsonObject canary)
          || !(canary.getValue("experiment") instanceof String e)
          || e.isBlank()) {
        throw new IllegalArgumentException(
            "canary: " + canaryValue + " (expected: {\"experiment\": \"<name>\", \"weight\": 5})");
      }
      experiment = e;
      weight = (int) whole(canary, "weight", 5, 1, 99);
    }
    return new RecalibrationPolicy(
        model,
        (String) rowsValue,
        minRows,
        (int) windowRows,
        psi,
        interval,
        cooldown,
        check,
        options,
        experiment,
        weight);
  }

  /** The stream's name under {@code <store>/captures}. */
  public String stream() {
    return rows.substring("capture:".length());
  }

  public JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("model", model)
            .put("rows", rows)
            .put("min_rows", minRows)
            .put("window_rows", windowRows)
            .put("psi_threshold", psiThreshold)
            .put("interval_seconds", intervalSeconds)
            .put("cooldown_seconds", cooldownSeconds)
            .put("check_seconds", checkSeconds)
            .put("options", options.copy());
    if (canaryExperiment != null) {
      o.put(
          "canary",
          new JsonObject().put("experiment", canaryExperiment).put("weight", canaryWeight));
    }
    return o;
  }

  private static long whole(JsonObject o, String key, long fallback, long least, long most) {
    Object v = o.getValue(key, fallback);
    if (!(v instanceof Number n)
        || n.doubleValue() != Math.rint(n.doubleValue())
        || n.longValue() < least
        || n.longValue() > most) {
      throw new IllegalArgumentException(
          key + ": " + v + " (expected: an integer from " + least + " to " + most + ")");
    }
    return n.longValue();
  }
}
