package ai.distill.gateway.dashboard;

import ai.distill.gateway.Gateway;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The operator's page: {@code GET /dashboard} serves a static page from the jar (HTML, CSS,
 * JavaScript, and uPlot from its WebJar; nothing is fetched from the internet) that polls the
 * gateway's JSON APIs and redraws itself. Also mounts the two read-only JSON views the page needs
 * beside the existing APIs: {@code GET /v1/models} (models, versions, state, lineage and manifest
 * metrics) and {@code GET /dashboard/api/metrics} (the gateway's metric families as JSON).
 *
 * <pre>{@code
 * DashboardRoutes.install(gateway);
 * }</pre>
 *
 * <p>Stateless apart from the handlers; thread-safe. Reading the store runs on a worker thread.
 */
public final class DashboardRoutes {

  /** Where the page's own files live on the class path. */
  static final String WEBROOT = "ai/distill/gateway/dashboard/web";

  private static final String UPLOT_PROPERTIES =
      "META-INF/maven/org.webjars.npm/uplot/pom.properties";

  private DashboardRoutes() {}

  /** Mounts the page, its assets and the JSON views on the gateway's router. */
  public static void install(Gateway gateway) {
    mount(gateway.router(), new ModelsView(gateway), new MetricsView(gateway.registry()));
  }

  static void mount(Router router, ModelsView models, MetricsView metrics) {
    // Read once here, off the event loops: the page itself is answered from memory.
    Buffer index = Buffer.buffer(resource(WEBROOT + "/index.html"));
    router.get("/v1/models").handler(models);
    router.get("/dashboard/api/metrics").handler(metrics);
    router.get("/dashboard").handler(ctx -> index(ctx, index));
    router.get("/dashboard/").handler(ctx -> index(ctx, index));
    router
        .get("/dashboard/lib/uplot/*")
        .handler(
            StaticHandler.create("META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist")
                .setMaxAgeSeconds(3600));
    router
        .get("/dashboard/*")
        .handler(StaticHandler.create(WEBROOT).setCachingEnabled(false).setIndexPage("index.html"));
  }

  // The page at /dashboard and /dashboard/ alike (its asset links are absolute).
  private static void index(RoutingContext ctx, Buffer page) {
    ctx.response()
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
        .end(page);
  }

  private static byte[] resource(String name) {
    try (InputStream in = DashboardRoutes.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " missing from the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The uPlot version bundled in the jar, read from its WebJar. */
  static String uplotVersion() {
    try (InputStream in =
        DashboardRoutes.class.getClassLoader().getResourceAsStream(UPLOT_PROPERTIES)) {
      if (in == null) {
        throw new IllegalStateException(
            "uPlot WebJar missing from the class path (" + UPLOT_PROPERTIES + ")");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
