package ai.distill.loadtest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.generator.LatencySummary;
import ai.distill.loadtest.oip.ServerSplit;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkdownReportTest {

  @Test
  void writes_markdown_tables_json_csv_and_valid_png_plots_for_a_canned_result(@TempDir Path dir)
      throws Exception {
    Path md = MarkdownReport.write(canned(), dir);

    String text = Files.readString(md);
    assertTrue(text.contains("# Distill benchmark"), text);
    assertTrue(
        text.contains(
            "| gateway | ctr | 400 req/s | 64 | 400 | 25600 | 1.200 | 1.800 | 2.500 | 4.000 | 0.050 | 0.300 | 0.800 | 128 | - | yes |"),
        text);
    assertTrue(text.contains("| in-process | ctr | 1 concurrent | 64 | 1000 | 64000 |"), text);
    assertTrue(text.contains("| gateway | ctr-int8 | 16 concurrent | 64 |"), text);
    assertTrue(text.contains("429×5"), text);
    assertTrue(text.contains("| gateway rows/s ÷ in-process rows/s | 0.800 |"), text);
    assertTrue(text.contains("✅ PASS **zero 5xx during the spike**"), text);
    assertTrue(text.contains("![latency vs load](latency-vs-load.png)"), text);
    assertTrue(text.contains("![throughput per variant](throughput-per-variant.png)"), text);

    for (String png : new String[] {MarkdownReport.LATENCY_PLOT, MarkdownReport.THROUGHPUT_PLOT}) {
      BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
      assertNotNull(image, png + " is a readable image");
      assertEquals(Plots.WIDTH, image.getWidth());
      assertEquals(Plots.HEIGHT, image.getHeight());
    }

    JsonObject json = new JsonObject(Files.readString(dir.resolve("results.json")));
    assertEquals(5, json.getJsonArray("measurements").size());
    assertEquals(
        0.8, json.getJsonObject("figures").getDouble("gateway rows/s ÷ in-process rows/s"));
    assertEquals(
        2.5,
        json.getJsonArray("measurements")
            .getJsonObject(1)
            .getJsonObject("latency_ms")
            .getDouble("p99"));
    assertEquals(
        0.3,
        json.getJsonArray("measurements")
            .getJsonObject(1)
            .getJsonObject("server_ms")
            .getDouble("queue"));
    assertEquals(
        128.0,
        json.getJsonArray("measurements")
            .getJsonObject(1)
            .getJsonObject("server_ms")
            .getDouble("mean_batch_rows"));
    assertTrue(json.getBoolean("passed"));

    String[] csv = Files.readString(dir.resolve("results.csv")).split("\n");
    assertEquals(6, csv.length);
    assertTrue(csv[0].startsWith("group,target,variant,mode,load,rows_per_request"));
    assertTrue(csv[4].startsWith("ramp,gateway,ctr,open,800.0000,64,780.0000,49920.0000,"), csv[4]);
    assertTrue(csv[4].contains(",5,5,0,0,"), "errors, 429s, 5xx, client saturated: " + csv[4]);
  }

  @Test
  void terminal_table_lists_every_measurement_and_failed_checks() {
    BenchmarkResult result =
        canned()
            .check("no failed requests during the hot swap", false, "3 requests failed (503×3)");
    String table = TerminalTable.render(result);
    assertEquals(
        5, table.lines().filter(l -> l.matches("^(baseline|ramp|variants) .*")).count(), table);
    assertTrue(
        table.contains("FAIL no failed requests during the hot swap — 3 requests failed (503×3)"),
        table);
    assertFalse(result.passed());
  }

  static BenchmarkResult canned() {
    BenchmarkResult r =
        new BenchmarkResult("Distill benchmark")
            .setup("model", "ctr")
            .setup("cores", "client 1, server 1");
    r.add(
        m(
            "baseline",
            "in-process",
            "ctr",
            "closed",
            1,
            1000,
            latency(0.9, 1.0, 1.1, 1.3),
            Map.of("200", 3000L),
            null));
    r.add(
        m(
            "ramp",
            "gateway",
            "ctr",
            "open",
            400,
            400,
            latency(1.2, 1.8, 2.5, 4.0),
            Map.of("200", 2400L),
            new ServerSplit(1.5, 0.3, 0.8, 2400, 128)));
    r.add(
        m(
            "ramp",
            "gateway",
            "ctr",
            "open",
            600,
            600,
            latency(1.5, 2.2, 3.5, 6.0),
            Map.of("200", 3600L),
            null));
    r.add(
        m(
            "ramp",
            "gateway",
            "ctr",
            "open",
            800,
            780,
            latency(3.0, 8.0, 20.0, 40.0),
            Map.of("200", 4680L, "429", 5L),
            null));
    r.add(
        m(
            "variants",
            "gateway",
            "ctr-int8",
            "closed",
            16,
            1200,
            latency(2.0, 3.0, 4.0, 5.0),
            Map.of("200", 7200L),
            null));
    r.figure("gateway rows/s ÷ in-process rows/s", 0.8).figure("saturation (req/s)", 780);
    r.check("zero 5xx during the spike", true, "429×120, 5xx×0");
    return r;
  }

  static Measurement m(
      String group,
      String target,
      String variant,
      String mode,
      double load,
      double rps,
      LatencySummary latency,
      Map<String, Long> outcomes,
      ServerSplit split) {
    long sent = outcomes.values().stream().mapToLong(Long::longValue).sum();
    return new Measurement(
        group,
        target,
        variant,
        mode,
        load,
        64,
        6,
        rps,
        rps * 64,
        latency,
        latency.p99() / 2,
        0.05,
        outcomes,
        sent,
        0,
        true,
        3,
        split);
  }

  static LatencySummary latency(double p50, double p90, double p99, double p999) {
    return new LatencySummary(1000, p50, p90, p99, p999, p999 * 2, p50);
  }
}
