package ai.distill.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsEndpointTest {

  @TempDir Path dir;

  private Vertx vertx;
  private Gateway gateway;
  private WebClient client;

  @BeforeEach
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "mlp", TinyModels.mlp(4, new int[] {3}, 1));
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    client = TestGateways.client(vertx);
  }

  @AfterEach
  void stop() {
    gateway.close().await();
    vertx.close().await();
  }

  private HttpResponse<Buffer> scrape(String path, String header, String value) {
    var req = client.get(gateway.port(), "127.0.0.1", path);
    if (header != null) {
      req.putHeader(header, value);
    }
    return req.send().await();
  }

  @Test
  void counts_unknown_models_and_versions_as_not_found_without_their_names() {
    assertEquals(
        404,
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/nope-" + System.nanoTime() + "/infer")
            .sendBuffer(Buffer.buffer("{}"))
            .await()
            .statusCode());
    assertEquals(
        404,
        client
            .post(gateway.port(), "127.0.0.1", "/v2/models/mlp/versions/9/infer")
            .sendBuffer(Buffer.buffer("{}"))
            .await()
            .statusCode());
    String text = scrape("/metrics", null, null).bodyAsString();
    assertTrue(
        text.contains(
            "distill_requests_total{model=\"_unknown\",outcome=\"not_found\",transport=\"http\",version=\"\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "distill_requests_total{model=\"mlp\",outcome=\"not_found\",transport=\"http\",version=\"\"} 1.0"),
        text);
    assertFalse(text.contains("nope-"), "client-chosen names never become labels");
  }

  @Test
  void negotiates_openmetrics_when_asked() {
    HttpResponse<Buffer> r =
        scrape("/metrics", "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertEquals(200, r.statusCode());
    assertTrue(r.getHeader("Content-Type").startsWith("application/openmetrics-text"));
    assertTrue(r.bodyAsString().endsWith("# EOF\n"), r.bodyAsString());
    HttpResponse<Buffer> plain = scrape("/metrics", null, null);
    assertEquals(PrometheusTextFormatWriter.CONTENT_TYPE, plain.getHeader("Content-Type"));
  }

  @Test
  void negotiates_protobuf_with_native_histograms_for_a_prometheus_that_asks() {
    client
        .post(gateway.port(), "127.0.0.1", "/v2/models/mlp/infer")
        .sendBuffer(
            Buffer.buffer(
                "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
                    + " \"data\": [1, 2, 3, 4]}]}"))
        .await();
    HttpResponse<Buffer> r =
        scrape(
            "/metrics?name[]=distill_request_duration_seconds",
            "Accept",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                + "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3");
    assertEquals(200, r.statusCode());
    assertTrue(
        r.getHeader("Content-Type").startsWith("application/vnd.google.protobuf"),
        r.getHeader("Content-Type"));
    String body = r.body().toString(StandardCharsets.ISO_8859_1);
    assertTrue(body.contains("distill_request_duration_seconds"), "the family is in the body");
  }

  @Test
  void gzips_when_the_scraper_accepts_it() throws Exception {
    HttpResponse<Buffer> r = scrape("/metrics", "Accept-Encoding", "gzip");
    assertEquals("gzip", r.getHeader("Content-Encoding"));
    byte[] raw = r.body().getBytes();
    String text;
    try (var in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(text.contains("distill_loaded_versions{model=\"mlp\"} 1.0"), text);
    assertTrue(raw.length < text.length(), "compressed " + raw.length + " of " + text.length());
  }

  @Test
  void filters_families_by_name() {
    String text =
        scrape("/metrics?name[]=distill_loaded_versions&name[]=distill_build_info", null, null)
            .bodyAsString();
    assertTrue(text.contains("distill_loaded_versions{model=\"mlp\"} 1.0"), text);
    assertTrue(text.contains("distill_build_info{version=\""), text);
    assertFalse(text.contains("distill_requests_total"), text);
    assertFalse(text.contains("jvm_"), text);
  }

  @Test
  void latency_buckets_resolve_the_single_milliseconds() {
    int between1And10ms = 0;
    for (double b : GatewayMetrics.LATENCY_BUCKETS) {
      if (b > 0.001 && b <= 0.01) {
        between1And10ms++;
      }
      assertTrue(b >= 0.0001 && b <= 10, "bucket " + b);
    }
    assertTrue(between1And10ms >= 12, "only " + between1And10ms + " buckets in (1 ms, 10 ms]");
  }

  @Test
  void forgetting_a_version_drops_all_its_series_and_keeps_the_others() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    GatewayMetrics m = GatewayMetrics.register(registry, false);
    for (String v : new String[] {"1", "2"}) {
      m.request("ctr", v, GatewayMetrics.Outcome.OK, 1_000_000);
      m.request("ctr", v, GatewayMetrics.Outcome.QUEUE_FULL, 0);
      m.inFlight("ctr", v, 1);
      var observer = m.batchObserver("ctr", v);
      observer.queueDepth(1, 1);
      observer.queueWait(1000);
      observer.batchRan(4, 2000);
    }
    m.forgetVersion("ctr", "1");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    String text = out.toString(StandardCharsets.UTF_8);
    assertFalse(text.contains("version=\"1\""), text);
    for (String family :
        new String[] {
          "distill_requests_total{",
          "distill_request_duration_seconds_bucket{",
          "distill_queue_wait_seconds_count{",
          "distill_compute_duration_seconds_sum{",
          "distill_batch_rows_count{",
          "distill_queue_depth{",
          "distill_inflight_requests{"
        }) {
      assertTrue(text.contains(family), family + " of version 2 kept:\n" + text);
    }
  }
}
