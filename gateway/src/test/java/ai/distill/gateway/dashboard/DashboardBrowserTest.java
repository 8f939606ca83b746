package ai.distill.gateway.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.demo.TrafficSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens {@code /dashboard} in headless Chromium (Debian's {@code chromium}) against a gateway
 * serving the small demo world after a fixed amount of simulated traffic, and checks that what the
 * page shows equals what the JSON APIs say. Saves {@code target/dashboard.png}. Skipped with a
 * message when Chromium is not installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {

  private static final String EXPERIMENT = DemoGateway.EXPERIMENT;
  private static final int REQUESTS = 240;

  private Path dir;
  private String chromium;
  private DemoGateway demo;

  static String chromium() {
    for (String name : new String[] {"chromium", "chromium-browser", "google-chrome"}) {
      for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        File f = new File(p, name);
        if (f.canExecute()) {
          return f.getPath();
        }
      }
    }
    return null;
  }

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    dir = tmp;
    chromium = chromium();
    Assumptions.assumeTrue(
        chromium != null,
        "chromium not on PATH: install it (apt-get install -y chromium) to run the dashboard's"
            + " browser test");
    demo = DemoGateway.start(dir, REQUESTS);
  }

  @AfterAll
  void stop() {
    if (demo != null) {
      demo.close();
    }
  }

  private JsonObject get(String path) {
    return demo.get(path);
  }

  private String url() {
    return url(demo.port());
  }

  private String url(int port) {
    return "http://127.0.0.1:" + port + "/dashboard#token=" + demo.gateway.adminToken();
  }

  private String runChromium(String... extra) throws Exception {
    return runChromiumAt(url(), extra);
  }

  private String runChromiumAt(String url, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(chromium);
    cmd.addAll(
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--user-data-dir=" + dir.resolve("chromium-profile"),
            "--window-size=1400,2200",
            "--virtual-time-budget=15000"));
    cmd.addAll(List.of(extra));
    cmd.add(url);
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(dir.resolve("chromium.log").toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s");
    }
    assertEquals(
        0, p.exitValue(), "chromium failed:\n" + Files.readString(dir.resolve("chromium.log")));
    return out;
  }

  private static Element byTestId(Document dom, String id) {
    Element e = dom.selectFirst("[data-testid=\"" + id + "\"]");
    assertNotNull(e, "no element data-testid=" + id + " in the page:\n" + dom.body().text());
    return e;
  }

  @Test
  @Order(1)
  void shows_the_experiment_models_and_jobs_as_the_json_apis_report_them() throws Exception {
    Document dom = Jsoup.parse(runChromium("--dump-dom"));
    JsonObject experiment = get("/v1/experiments/" + EXPERIMENT);
    JsonArray variants = experiment.getJsonArray("variants");

    assertEquals("true", dom.body().attr("data-ready"), "the page never got two polls");
    assertEquals("live", byTestId(dom, "connection").text());
    double best = -1;
    String leader = null;
    long impressions = 0;
    for (int i = 0; i < variants.size(); i++) {
      JsonObject v = variants.getJsonObject(i);
      String id = EXPERIMENT + "/" + v.getString("model") + "/";
      for (String key : new String[] {"exposures", "impressions", "clicks"}) {
        assertEquals(
            Long.toString(v.getLong(key)), byTestId(dom, id + key).attr("data-value"), id + key);
        assertEquals(Long.toString(v.getLong(key)), byTestId(dom, id + key).text(), id + key);
      }
      double ctr = v.getDouble("ctr");
      assertEquals(ctr, Double.parseDouble(byTestId(dom, id + "ctr").attr("data-value")), 1e-12);
      assertEquals(
          String.format(java.util.Locale.ROOT, "%.3f%%", 100 * ctr),
          byTestId(dom, id + "ctr").text());
      JsonArray ci = v.getJsonArray("ctr_ci");
      String[] shown = byTestId(dom, id + "ctr_ci").attr("data-value").split(",");
      assertEquals(ci.getDouble(0), Double.parseDouble(shown[0]), 1e-12, id + "ctr_ci");
      assertEquals(ci.getDouble(1), Double.parseDouble(shown[1]), 1e-12, id + "ctr_ci");
      assertEquals(v.getString("decision"), byTestId(dom, id + "decision").text(), id);
      assertEquals(v.getString("role"), byTestId(dom, id + "role").text(), id);
      impressions += v.getLong("impressions");
      if (v.getLong("impressions") > 0 && ctr > best) {
        best = ctr;
        leader = v.getString("model");
      }
    }
    assertEquals(
        REQUESTS * (long) DemoGateway.CANDIDATES,
        impressions,
        "every simulated request was counted");
    assertEquals(leader, byTestId(dom, "leader/" + EXPERIMENT).text());
    assertEquals(
        Boolean.toString(experiment.getJsonObject("srm").getBoolean("alarm")),
        byTestId(dom, "srm/" + EXPERIMENT).attr("data-alarm"));

    JsonArray models = get("/v1/models").getJsonArray("models");
    assertTrue(models.size() >= 2, models.encode());
    for (int i = 0; i < models.size(); i++) {
      JsonObject m = models.getJsonObject(i);
      for (int j = 0; j < m.getJsonArray("versions").size(); j++) {
        JsonObject v = m.getJsonArray("versions").getJsonObject(j);
        String id = "model/" + m.getString("name") + ":" + v.getString("version") + "/";
        assertEquals(v.getString("state"), byTestId(dom, id + "state").attr("data-value"), id);
        assertEquals(v.getString("role"), byTestId(dom, id + "role").text(), id);
        assertEquals(
            Long.toString(v.getLong("size")), byTestId(dom, id + "size").attr("data-value"), id);
        assertEquals(
            v.getString("parent") == null ? "" : v.getString("parent"),
            byTestId(dom, id + "parent").attr("data-value"),
            id);
      }
    }
    String teacher = experiment.getString("teacher");
    String chain = byTestId(dom, "lineage/" + teacher + ":1").text();
    assertTrue(chain.startsWith(teacher + ":1 teacher"), chain);
    assertTrue(chain.contains("→"), "the teacher's students hang off it: " + chain);

    assertEquals(0, get("/admin/v1/jobs").getJsonArray("jobs").size());
    assertEquals("No optimizer job yet.", byTestId(dom, "no-jobs").text());
    assertTrue(
        dom.select("[data-testid=chart-throughput] canvas").size() > 0, "uPlot drew the chart");
  }

  // Runs after the exact comparisons: live traffic meanwhile, so the charts have lines.
  @Test
  @Order(2)
  void saves_a_screenshot_of_the_page() throws Exception {
    Path target = Path.of(System.getProperty("user.dir"), "target");
    Files.createDirectories(target);
    Path png = target.resolve("dashboard.png");
    Files.deleteIfExists(png);
    TrafficSimulator live = demo.traffic(40, 0, 12);
    live.start();
    try {
      runChromium("--screenshot=" + png.toAbsolutePath(), "--hide-scrollbars");
    } finally {
      live.stop().await();
    }
    assertTrue(Files.size(png) > 20_000, "screenshot " + png + " is " + Files.size(png) + " bytes");
  }

  /**
   * The gateway goes away after the page's first polls (a proxy in front of it starts refusing, as
   * a restarting gateway does): the page keeps the last data it had and says it is retrying.
   */
  @Test
  @Order(3)
  void keeps_the_last_data_and_says_so_while_the_gateway_is_unreachable() throws Exception {
    java.util.concurrent.atomic.AtomicInteger experimentPolls =
        new java.util.concurrent.atomic.AtomicInteger();
    io.vertx.core.http.HttpClient upstream = demo.vertx.createHttpClient();
    io.vertx.core.http.HttpServer proxy =
        demo.vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  boolean poll = req.path().startsWith("/v1/experiments");
                  if (poll && experimentPolls.incrementAndGet() > 3) {
                    req.connection().close(); // gone, as during a restart
                    return;
                  }
                  req.body()
                      .compose(
                          body ->
                              upstream
                                  .request(req.method(), demo.port(), "127.0.0.1", req.uri())
                                  .compose(
                                      out -> {
                                        out.headers().setAll(req.headers());
                                        return out.send(body);
                                      })
                                  .compose(
                                      resp ->
                                          resp.body()
                                              .map(
                                                  b -> {
                                                    req.response()
                                                        .setStatusCode(resp.statusCode())
                                                        .headers()
                                                        .setAll(resp.headers());
                                                    return b;
                                                  })))
                      .onSuccess(b -> req.response().end(b))
                      .onFailure(e -> req.response().setStatusCode(502).end());
                })
            .listen(0, "127.0.0.1")
            .await();
    try {
      Document dom = Jsoup.parse(runChromiumAt(url(proxy.actualPort()), "--dump-dom"));

      assertTrue(experimentPolls.get() > 3, "the page kept polling: " + experimentPolls.get());
      assertEquals("gateway unreachable — retrying", byTestId(dom, "connection").text());
      JsonArray variants = get("/v1/experiments/" + EXPERIMENT).getJsonArray("variants");
      String teacher = variants.getJsonObject(0).getString("model");
      Element impressions = byTestId(dom, EXPERIMENT + "/" + teacher + "/impressions");
      assertTrue(
          Long.parseLong(impressions.attr("data-value")) > 0,
          "the last data stays on the page: " + impressions);
    } finally {
      proxy.close().await();
      upstream.close().await();
    }
  }
}
