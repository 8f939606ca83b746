package ai.distill.gateway.dashboard;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The repository's {@code ops/} folder (Grafana dashboard, Prometheus rules) and the dashboard
 * page's script, read for tests: the PromQL expressions they contain and the metric names used.
 */
final class OpsFiles {

  private static final Pattern METRIC = Pattern.compile("\\b(distill|jvm|process)_[a-z0-9_]+");

  private OpsFiles() {}

  /** {@code ops/} of the checkout ({@code distill.ops.dir}, set by the build). */
  static Path dir() {
    return Path.of(System.getProperty("distill.ops.dir", "../ops"));
  }

  static Path rules() {
    return dir().resolve("prometheus/distill-alerts.yml");
  }

  static Path rulesTest() {
    return dir().resolve("prometheus/distill-alerts.test.yml");
  }

  static Path grafana() {
    return dir().resolve("grafana/distill-gateway.json");
  }

  /** Every {@code expr} of the alerting rules. */
  @SuppressWarnings("unchecked")
  static List<String> ruleExpressions() {
    List<String> out = new ArrayList<>();
    Map<String, Object> doc = new Yaml().load(read(rules()));
    for (Object g : (List<Object>) doc.get("groups")) {
      for (Object r : (List<Object>) ((Map<String, Object>) g).get("rules")) {
        out.add((String) ((Map<String, Object>) r).get("expr"));
      }
    }
    return out;
  }

  /** Every PromQL expression of the Grafana dashboard (panel targets and annotations). */
  static List<String> grafanaExpressions() {
    JsonObject dash = new JsonObject(read(grafana()));
    List<String> out = new ArrayList<>();
    collect(dash.getJsonArray("panels"), out);
    for (Object a : dash.getJsonObject("annotations").getJsonArray("list")) {
      out.add(((JsonObject) a).getString("expr"));
    }
    return out;
  }

  private static void collect(JsonArray panels, List<String> out) {
    for (Object o : panels) {
      JsonObject p = (JsonObject) o;
      if (p.containsKey("panels")) {
        collect(p.getJsonArray("panels"), out);
      }
      for (Object t : p.getJsonArray("targets", new JsonArray())) {
        out.add(((JsonObject) t).getString("expr"));
      }
    }
  }

  /** The dashboard page's script, from the class path as the gateway serves it. */
  static String dashboardScript() {
    try (InputStream in =
        OpsFiles.class
            .getClassLoader()
            .getResourceAsStream(DashboardRoutes.WEBROOT + "/dashboard.js")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The metric names (series names as written in queries) found in {@code text}. */
  static TreeSet<String> metricNames(String text) {
    TreeSet<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(text);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /** An executable on PATH, or null. */
  static String onPath(String name) {
    for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(p, name);
      if (f.canExecute()) {
        return f.getPath();
      }
    }
    return null;
  }
}
