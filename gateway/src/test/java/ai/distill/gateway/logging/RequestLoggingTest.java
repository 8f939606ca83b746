package ai.distill.gateway.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class RequestLoggingTest {

  @TempDir Path dir;

  private Vertx vertx;
  private Gateway gateway;
  private WebClient client;
  private final ListAppender<ILoggingEvent> access = new ListAppender<>();
  private Logger accessLogger;
  private Level previousLevel;

  @BeforeEach
  void start() {
    accessLogger = (Logger) LoggerFactory.getLogger(AccessLogHandler.LOGGER);
    previousLevel = accessLogger.getLevel();
    accessLogger.setLevel(Level.INFO);
    access.start();
    accessLogger.addAppender(access);
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(dir.resolve("store")).build()).await();
    client = TestGateways.client(vertx);
  }

  @AfterEach
  void stop() {
    accessLogger.detachAppender(access);
    accessLogger.setLevel(previousLevel);
    gateway.close().await();
    vertx.close().await();
  }

  @Test
  void echoes_a_given_request_id_and_logs_it_on_the_access_line() {
    HttpResponse<Buffer> r =
        client
            .get(gateway.port(), "127.0.0.1", "/v2/health/live")
            .putHeader(RequestIdHandler.HEADER, "trace-42")
            .send()
            .await();
    assertEquals(200, r.statusCode());
    assertEquals("trace-42", r.getHeader(RequestIdHandler.HEADER));
    ILoggingEvent line = accessLine("/v2/health/live");
    assertEquals("trace-42", line.getMDCPropertyMap().get(RequestIdHandler.MDC_KEY));
    assertEquals(200, keyValue(line, "status"));
    assertEquals("GET", keyValue(line, "method"));
  }

  @Test
  void makes_up_an_id_when_none_or_a_malformed_one_is_given() {
    HttpResponse<Buffer> r =
        client
            .get(gateway.port(), "127.0.0.1", "/no/such/path")
            .putHeader(RequestIdHandler.HEADER, "bad id with spaces\u00e9")
            .send()
            .await();
    assertEquals(404, r.statusCode());
    String id = r.getHeader(RequestIdHandler.HEADER);
    assertTrue(id.matches("[0-9a-f]{16}"), id);
    HttpResponse<Buffer> other =
        client.get(gateway.port(), "127.0.0.1", "/no/such/path").send().await();
    assertNotEquals(id, other.getHeader(RequestIdHandler.HEADER));
    assertEquals(404, keyValue(accessLine("/no/such/path"), "status"));
  }

  @Test
  void json_lines_carry_the_request_id_and_the_access_fields() {
    client
        .get(gateway.port(), "127.0.0.1", "/v2/health/ready")
        .putHeader(RequestIdHandler.HEADER, "r-1")
        .send()
        .await();
    ILoggingEvent line = accessLine("/v2/health/ready");
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    var encoder = LogSetup.encoder(context, LogSetup.Format.JSON);
    String json = new String(encoder.encode(line), StandardCharsets.UTF_8);
    assertTrue(json.endsWith("\n") && json.indexOf('\n') == json.length() - 1, json);
    JsonObject o = new JsonObject(json);
    assertEquals("INFO", o.getString("level"));
    assertEquals(AccessLogHandler.LOGGER, o.getString("loggerName"));
    assertEquals("r-1", o.getJsonObject("mdc").getString(RequestIdHandler.MDC_KEY));
    assertTrue(o.getString("formattedMessage").startsWith("GET /v2/health/ready 200"), json);
    assertTrue(o.encode().contains("\"status\""), "key-value pairs in " + json);
  }

  @Test
  void lines_logged_by_later_callbacks_of_a_request_carry_its_id_and_other_lines_do_not()
      throws Exception {
    Logger log = (Logger) LoggerFactory.getLogger("distill.test.callbacks");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    log.setLevel(Level.INFO);
    Router router = Router.router(vertx);
    router.route().handler(new RequestIdHandler());
    router
        .get("/later")
        .handler(
            ctx ->
                vertx.setTimer(
                    5,
                    t -> {
                      log.info("timer");
                      vertx
                          .executeBlocking(() -> 1)
                          .onComplete(
                              r -> {
                                log.info("after blocking");
                                ctx.response().end();
                              });
                    }));
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0).await();
    try {
      for (String id : List.of("req-a", "req-b")) {
        HttpResponse<Buffer> r =
            client
                .get(server.actualPort(), "127.0.0.1", "/later")
                .putHeader(RequestIdHandler.HEADER, id)
                .send()
                .await();
        assertEquals(200, r.statusCode());
      }
      // A timer that belongs to no request, on an event loop that served both requests.
      vertx.setTimer(1, t -> log.info("no request"));
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (lines.list.size() < 5 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      List<String> seen =
          List.copyOf(lines.list).stream()
              .map(e -> e.getMessage() + "=" + e.getMDCPropertyMap().get(RequestIdHandler.MDC_KEY))
              .toList();
      assertEquals(
          List.of(
              "timer=req-a",
              "after blocking=req-a",
              "timer=req-b",
              "after blocking=req-b",
              "no request=null"),
          seen);
    } finally {
      log.detachAppender(lines);
      log.setLevel(null);
      server.close().await();
    }
  }

  @Test
  void log_format_is_text_or_json_and_nothing_else() {
    assertEquals(LogSetup.Format.JSON, LogSetup.Format.parse(" JSON "));
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> LogSetup.Format.parse("xml"));
    assertEquals("log format : xml (expected: text or json)", e.getMessage());
  }

  // The access line is written once the response ended, possibly just after the client saw it.
  private ILoggingEvent accessLine(String path) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (System.nanoTime() < deadline) {
      List<ILoggingEvent> events = List.copyOf(access.list);
      for (ILoggingEvent e : events) {
        if (path.equals(keyValue(e, "path"))) {
          return e;
        }
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("no access log line for " + path + " in " + access.list);
  }

  private static Object keyValue(ILoggingEvent e, String key) {
    if (e.getKeyValuePairs() == null) {
      return null;
    }
    return e.getKeyValuePairs().stream()
        .filter(kv -> kv.key.equals(key))
        .map(kv -> kv.value)
        .findFirst()
        .orElse(null);
  }
}
