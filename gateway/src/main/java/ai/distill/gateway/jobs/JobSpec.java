package ai.distill.gateway.jobs;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code POST /admin/v1/optimize} asks for: make {@code name} from {@code source} by an {@link
 * Action} on {@code rows}, with the CLI's {@code options}, and optionally canary the result.
 * Immutable; {@link #fromJson} checks the shape and says what to change.
 *
 * <pre>{@code
 * JobSpec spec = JobSpec.fromJson(new JsonObject("""
 *     {"source": "ctr", "action": "quantize", "name": "ctr-int8", "rows": "capture",
 *      "options": {"method": "minmax", "max-auc-drop": 0.005}, "canary": {"experiment": "ctr-ab", "weight": 5}}"""));
 * }</pre>
 *
 * @param source the source model, {@code name[:version]}
 * @param action what to do
 * @param name the model name to publish under ({@code distill+quantize} also publishes {@code
 *     name-int8})
 * @param rows {@code capture} (the source's captured traffic, {@code <store>/captures/<source>}),
 *     {@code capture:<stream>} (another capture stream, e.g. an experiment's) or a rows file or
 *     directory relative to the store
 * @param options CLI option names without dashes mapped to values ({@code true}/{@code false} for
 *     flags); {@code min_rows} is the job's own (least captured rows, default 1,000)
 * @param canary the experiment to canary the result in, or null
 */
public record JobSpec(
    String source,
    Action action,
    String name,
    String rows,
    Map<String, Object> options,
    Canary canary) {

  /** The rows value that selects the source's captured traffic. */
  public static final String CAPTURE = "capture";

  static final List<String> KEYS = List.of("source", "action", "name", "rows", "options", "canary");
  static final String EXAMPLE =
      "{\"source\": \"ctr\", \"action\": \"quantize\", \"name\": \"ctr-int8\", "
          + "\"rows\": \"capture\", \"options\": {\"method\": \"minmax\"}, \"canary\": {\"experiment\": "
          + "\"ctr-ab\", \"weight\": 5}}";

  /** What a job does with its source. */
  public enum Action {
    QUANTIZE("quantize"),
    DISTILL("distill"),
    DISTILL_QUANTIZE("distill+quantize");

    private final String jsonName;

    Action(String jsonName) {
      this.jsonName = jsonName;
    }

    public String jsonName() {
      return jsonName;
    }

    /** Parses {@code quantize}, {@code distill} or {@code distill+quantize}. */
    public static Action parse(String text) {
      for (Action a : values()) {
        if (a.jsonName.equals(text)) {
          return a;
        }
      }
      throw new IllegalArgumentException(
          "action: " + text + " (expected: \"quantize\", \"distill\" or \"distill+quantize\")");
    }
  }

  /**
   * Canary the published model in an experiment at a small weight.
   *
   * @param experiment the experiment name
   * @param weight the canary's traffic weight, 1..99 percent
   */
  public record Canary(String experiment, int weight) {
    public Canary {
      if (experiment == null || experiment.isBlank()) {
        throw new IllegalArgumentException(
            "canary.experiment: "
                + experiment
                + " (expected: the name of an experiment, e.g. \"ctr-ab\")");
      }
      if (weight < 1 || weight > 99) {
        throw new IllegalArgumentException(
            "canary.weight: "
                + weight
                + " (expected: an integer 1..99, the percent of traffic the canary gets)");
      }
    }

    public JsonObject toJson() {
      return new JsonObject().put("experiment", experiment).put("weight", weight);
    }
  }

  public JobSpec {
    options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
  }

  /** The source's model name (without a version). */
  public String sourceModel() {
    int colon = source.lastIndexOf(':');
    return colon < 0 ? source : source.substring(0, colon);
  }

  /**
   * Parses a request body.
   *
   * @throws IllegalArgumentException naming the key that is wrong and what is expected
   */
  public static JobSpec fromJson(JsonObject body) {
    if (body == null) {
      throw new IllegalArgumentException(
          "body: missing (expected a JSON object like " + EXAMPLE + ")");
    }
    for (String key : body.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "body: unknown key '"
                + key
                + "' (accepted keys: "
                + String.join(", ", KEYS)
                + ", e.g. "
                + EXAMPLE
                + ")");
      }
    }
    String source =
        requiredString(body, "source", "the model to start from, e.g. \"ctr\" or \"ctr:3\"");
    Action action =
        Action.parse(
            requiredString(body, "action", "\"quantize\", \"distill\" or \"distill+quantize\""));
    String name =
        requiredString(body, "name", "the model name to publish under, e.g. \"ctr-int8\"");
    Object rowsValue = body.getValue("rows", CAPTURE);
    if (!(rowsValue instanceof String rows) || rows.isBlank()) {
      throw new IllegalArgumentException(
          "rows: "
              + rowsValue
              + " (expected: \"capture\", "
              + "\"capture:<stream>\" or a rows file or directory relative to the store, e.g. \"rows/ctr.jsonl\")");
    }
    Object optionsValue = body.getValue("options", new JsonObject());
    if (!(optionsValue instanceof JsonObject optionsJson)) {
      throw new IllegalArgumentException(
          "options: "
              + optionsValue
              + " (expected: an object of CLI option names without dashes, e.g. {\"method\": \"minmax\", "
              + "\"per-channel\": false})");
    }
    Map<String, Object> options = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : optionsJson) {
      Object v = e.getValue();
      if (v instanceof JsonArray a) {
        v = a.getList();
      } else if (v != null
          && !(v instanceof String || v instanceof Number || v instanceof Boolean)) {
        throw new IllegalArgumentException(
            "options."
                + e.getKey()
                + ": "
                + v
                + " (expected: a string, number, boolean or array of numbers)");
      }
      if (v == null) {
        throw new IllegalArgumentException(
            "options."
                + e.getKey()
                + ": null (expected: a value; leave the "
                + "option out for its default)");
      }
      options.put(e.getKey(), v);
    }
    Canary canary = null;
    Object canaryValue = body.getValue("canary");
    if (canaryValue != null) {
      if (!(canaryValue instanceof JsonObject c)) {
        throw new IllegalArgumentException(
            "canary: " + canaryValue + " (expected: {\"experiment\": \"ctr-ab\", \"weight\": 5})");
      }
      for (String key : c.fieldNames()) {
        if (!key.equals("experiment") && !key.equals("weight")) {
          throw new IllegalArgumentException(
              "canary: unknown key '" + key + "' (accepted keys: experiment, weight)");
        }
      }
      Object experiment = c.getValue("experiment");
      Object weight = c.getValue("weight");
      if (!(experiment instanceof String e)) {
        throw new IllegalArgumentException(
            "canary.experiment: "
                + experiment
                + " (expected: the name of an experiment, e.g. \"ctr-ab\")");
      }
      if (!(weight instanceof Integer || weight instanceof Long)) {
        throw new IllegalArgumentException(
            "canary.weight: "
                + weight
                + " (expected: an integer 1..99, the percent of traffic the canary gets)");
      }
      long w = ((Number) weight).longValue();
      canary = new Canary(e, (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, w)));
    }
    return new JobSpec(source, action, name, rows, options, canary);
  }

  private static String requiredString(JsonObject body, String key, String expected) {
    Object v = body.getValue(key);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException(
          key + ": " + (v == null ? "missing" : v) + " (expected: " + expected + ")");
    }
    return s;
  }

  /** True when the rows are a capture stream rather than a path. */
  public boolean capturedRows() {
    return rows.equals(CAPTURE) || rows.startsWith(CAPTURE + ":");
  }

  /**
   * The rows on disk: the capture stream's directory, or the path inside the store.
   *
   * @throws IllegalArgumentException when the path leaves the store or does not exist
   */
  public Path rowsPath(Path storeRoot) {
    Path root = storeRoot.toAbsolutePath().normalize();
    if (capturedRows()) {
      String stream = rows.equals(CAPTURE) ? sourceModel() : rows.substring(CAPTURE.length() + 1);
      if (stream.isEmpty()
          || stream.contains("/")
          || stream.contains("\\")
          || stream.startsWith(".")) {
        throw new IllegalArgumentException(
            "rows: "
                + rows
                + " (expected: \"capture\" or \"capture:<stream>\" naming a directory under <store>/captures)");
      }
      return root.resolve("captures").resolve(stream);
    }
    return insideStore(root, rows, "rows");
  }

  /**
   * {@code relative} resolved inside the store; refuses absolute paths, {@code ..} and symbolic
   * links that lead outside it, and paths that do not exist.
   */
  static Path insideStore(Path root, String relative, String what) {
    Path given;
    try {
      given = Path.of(relative);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          what + ": " + relative + " is not a path (" + e.getMessage() + ")");
    }
    Path resolved = root.resolve(given).normalize();
    if (given.isAbsolute() || !resolved.startsWith(root) || resolved.equals(root)) {
      throw new IllegalArgumentException(
          what
              + ": "
              + relative
              + " is outside the store (expected: a "
              + "path relative to the store, e.g. \"rows/ctr.jsonl\", without '..')");
    }
    if (!Files.exists(resolved)) {
      throw new IllegalArgumentException(
          what
              + ": "
              + relative
              + " does not exist in the store "
              + "(expected: a rows file or directory relative to "
              + root
              + ")");
    }
    try {
      if (!resolved.toRealPath().startsWith(root.toRealPath())) {
        throw new IllegalArgumentException(
            what
                + ": "
                + relative
                + " is a link that leaves the store "
                + "(expected: a path whose files live inside the store)");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          what + ": " + relative + " cannot be read: " + e.getMessage());
    }
    return resolved;
  }

  /** The JSON form (as received, with defaults filled in). */
  public JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("source", source)
            .put("action", action.jsonName())
            .put("name", name)
            .put("rows", rows)
            .put("options", new JsonObject(new LinkedHashMap<>(options)));
    if (canary != null) {
      o.put("canary", canary.toJson());
    }
    return o;
  }
}
