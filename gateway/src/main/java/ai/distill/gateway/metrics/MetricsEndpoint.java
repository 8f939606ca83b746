package ai.distill.gateway.metrics;

import io.prometheus.metrics.exporter.common.PrometheusHttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.common.PrometheusHttpResponse;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Enumeration;

/**
 * {@code GET /metrics} through Prometheus client_java's own {@link PrometheusScrapeHandler}:
 * content negotiation (text 0.0.4, OpenMetrics, protobuf with native histograms), gzip when
 * accepted, and {@code name[]} filtering. A scrape is in-memory work, so it runs on the event loop.
 *
 * <pre>{@code
 * router.get("/metrics").handler(new MetricsEndpoint(registry));
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class MetricsEndpoint implements Handler<RoutingContext> {

  private final PrometheusScrapeHandler scrape;

  public MetricsEndpoint(PrometheusRegistry registry) {
    this.scrape = new PrometheusScrapeHandler(registry);
  }

  @Override
  public void handle(RoutingContext ctx) {
    Exchange exchange = new Exchange(ctx);
    try {
      scrape.handleRequest(exchange);
    } catch (IOException e) {
      throw new UncheckedIOException("scrape failed: " + e.getMessage(), e);
    }
  }

  /** Adapts one Vert.x request to the scrape handler; the body is buffered, then sent at close. */
  private static final class Exchange
      implements PrometheusHttpExchange, PrometheusHttpRequest, PrometheusHttpResponse {

    private final RoutingContext ctx;
    private ByteArrayOutputStream body;

    Exchange(RoutingContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public PrometheusHttpRequest getRequest() {
      return this;
    }

    @Override
    public PrometheusHttpResponse getResponse() {
      return this;
    }

    @Override
    public String getQueryString() {
      return ctx.request().query();
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
      return Collections.enumeration(ctx.request().headers().getAll(name));
    }

    @Override
    public String getMethod() {
      return ctx.request().method().name();
    }

    @Override
    public String getRequestPath() {
      return ctx.request().path();
    }

    @Override
    public void setHeader(String name, String value) {
      ctx.response().putHeader(name, value);
    }

    @Override
    public OutputStream sendHeadersAndGetBody(int statusCode, int contentLength) {
      ctx.response().setStatusCode(statusCode);
      body = new ByteArrayOutputStream(contentLength > 0 ? contentLength : 16 * 1024);
      return body;
    }

    @Override
    public void handleException(IOException e) throws IOException {
      throw e;
    }

    @Override
    public void handleException(RuntimeException e) {
      throw e;
    }

    @Override
    public void close() {
      HttpServerResponse response = ctx.response();
      if (response.ended()) {
        return;
      }
      HttpServerRequest request = ctx.request();
      if (body == null || request.method().name().equals("HEAD")) {
        response.end();
      } else {
        // The handler sets Content-Length itself for uncompressed bodies; Vert.x sets it anyway.
        response.headers().remove("Content-Length");
        response.end(Buffer.buffer(body.toByteArray()));
      }
    }
  }
}
