package ai.distill.gateway.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this build, read once from {@code build.properties} (written by Maven resource
 * filtering). {@code --version}, {@code GET /v2} and {@code distill_build_info} all report it.
 *
 * <pre>{@code
 * String v = BuildInfo.version(); // "0.1.0-SNAPSHOT"
 * }</pre>
 */
public final class BuildInfo {

  private static final String VERSION = load();

  private BuildInfo() {}

  /** The project version this jar was built from, or {@code "unknown"} outside a build. */
  public static String version() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown").trim();
      return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read build.properties: " + e.getMessage(), e);
    }
  }
}
