package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.fuzz.FuzzGateway.Answer;
import ai.distill.gateway.http.AdminAuth;
import ai.distill.gateway.logging.AccessLogHandler;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The security review's checks, end to end on the fuzz gateway: the admin token (constant-time
 * check, never in logs or metrics), metric labels free of user ids and request content, strict
 * names on every route that takes one, nothing written outside the store, CORS off by default.
 */
class SecurityTest {

  private static final String SECRET_USER = "uid-SECRET-7f3a";
  private static final String WRONG_TOKEN = "wrong-token-QQQ";

  private static Map<String, String> admin(String token) {
    return Map.of("Content-Type", "application/json", "Authorization", "Bearer " + token);
  }

  @Test
  void the_admin_token_must_match_exactly() {
    AdminAuth auth = new AdminAuth("s3cret-token");
    assertTrue(auth.matches("s3cret-token"));
    for (String wrong :
        List.of(
            "",
            "s",
            "s3cret-toke",
            "s3cret-tokeN",
            "S3cret-token",
            "s3cret-token ",
            "x".repeat(4096))) {
      assertFalse(auth.matches(wrong), wrong);
    }
    FuzzGateway g = FuzzGateway.get();
    Answer none = g.sendHostile(HttpMethod.GET, "/admin/v1/jobs", Map.of(), null);
    assertEquals(401, none.status(), none.toString());
    Answer prefix = g.sendHostile(HttpMethod.GET, "/admin/v1/jobs", admin("test-toke"), null);
    assertEquals(403, prefix.status(), prefix.toString());
    Answer right = g.sendHostile(HttpMethod.GET, "/admin/v1/jobs", admin(FuzzGateway.TOKEN), null);
    assertEquals(200, right.status(), right.toString());
  }

  @Test
  void tokens_never_appear_in_logs_even_with_the_access_log_and_debug_on() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger access = (Logger) LoggerFactory.getLogger(AccessLogHandler.LOGGER);
    Level rootLevel = root.getLevel();
    Level accessLevel = access.getLevel();
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    root.addAppender(seen);
    access.addAppender(seen);
    root.setLevel(Level.DEBUG);
    access.setLevel(Level.INFO);
    try {
      FuzzGateway g = FuzzGateway.get();
      for (String token : List.of(FuzzGateway.TOKEN, WRONG_TOKEN)) {
        g.sendHostile(HttpMethod.GET, "/admin/v1/jobs", admin(token), null);
        g.sendHostile(HttpMethod.POST, "/admin/v1/optimize", admin(token), Buffer.buffer("{"));
        g.sendHostile(
            HttpMethod.POST,
            "/v2/repository/models/nosuch/load",
            admin(token),
            Buffer.buffer("{}"));
        g.sendHostile(HttpMethod.GET, "/v2/models/ctr?token=" + token, admin(token), null);
      }
    } finally {
      root.detachAppender(seen);
      access.detachAppender(seen);
      root.setLevel(rootLevel);
      access.setLevel(accessLevel);
    }
    assertTrue(
        seen.list.stream().anyMatch(e -> e.getLoggerName().equals(AccessLogHandler.LOGGER)),
        "the access log was on");
    for (ILoggingEvent e : seen.list) {
      String all =
          e.getFormattedMessage()
              + " "
              + e.getKeyValuePairs()
              + " "
              + e.getMDCPropertyMap()
              + " "
              + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage());
      assertFalse(all.contains(FuzzGateway.TOKEN), "the admin token in a log line: " + all);
      assertFalse(all.contains(WRONG_TOKEN), "a presented token in a log line: " + all);
    }
  }

  @Test
  void metrics_carry_no_token_user_id_or_request_content() {
    FuzzGateway g = FuzzGateway.get();
    for (int i = 0; i < 20; i++) {
      JsonObject req =
          new JsonObject(HostileRequests.VALID_INFER)
              .put("parameters", new JsonObject().put("user_id", SECRET_USER + i));
      Answer a = g.send(HttpMethod.POST, "/v2/models/ab/infer", Map.of(), req.toBuffer());
      assertEquals(200, a.status(), a.toString());
      g.send(
          HttpMethod.POST,
          "/v1/feedback",
          Map.of(),
          new JsonObject().put("id", SECRET_USER + "-id").put("clicks", List.of(1)).toBuffer());
      g.sendHostile(
          HttpMethod.POST,
          "/v2/models/nosuch-LABELPROBE" + i + "/infer",
          Map.of(),
          Buffer.buffer(HostileRequests.VALID_INFER));
      g.sendHostile(HttpMethod.GET, "/admin/v1/jobs", admin(WRONG_TOKEN), null);
    }
    String metrics = g.send(HttpMethod.GET, "/metrics", Map.of(), null).body().toString();
    assertTrue(metrics.contains("distill_"), "scraped");
    assertFalse(metrics.contains("SECRET"), "a user id or feedback id in a metric");
    assertFalse(metrics.contains("LABELPROBE"), "a requested (unknown) model name in a metric");
    assertFalse(metrics.contains(FuzzGateway.TOKEN), "the admin token in a metric");
    assertFalse(metrics.contains(WRONG_TOKEN), "a presented token in a metric");
  }

  @Test
  void every_route_that_takes_a_name_refuses_traversal_and_writes_nothing_outside_the_store()
      throws Exception {
    FuzzGateway g = FuzzGateway.get();
    Map<String, String> a = admin(FuzzGateway.TOKEN);
    record Call(HttpMethod method, String uri, String body) {}
    List<Call> calls = new java.util.ArrayList<>();
    for (String name :
        List.of("..%2Fescaped", "..%2F..%2Fescaped", "a%0Ab", "x%00y", "%2e%2e%2Fescaped")) {
      calls.add(new Call(HttpMethod.GET, "/v2/models/" + name, null));
      calls.add(new Call(HttpMethod.POST, "/v2/models/" + name + "/infer", "{}"));
      calls.add(new Call(HttpMethod.POST, "/v2/repository/models/" + name + "/load", "{}"));
      calls.add(new Call(HttpMethod.POST, "/v2/repository/models/" + name + "/unload", "{}"));
      calls.add(new Call(HttpMethod.POST, "/v1/models/" + name + "/stream", "{}"));
      calls.add(new Call(HttpMethod.GET, "/v1/experiments/" + name, null));
      calls.add(new Call(HttpMethod.POST, "/admin/v1/experiments/" + name + "/stop", "{}"));
      calls.add(new Call(HttpMethod.GET, "/admin/v1/jobs/" + name, null));
      calls.add(new Call(HttpMethod.POST, "/admin/v1/jobs/" + name + "/cancel", "{}"));
    }
    for (String name : List.of("../escaped", "../../escaped", "a\\nb", "..", "x/y")) {
      String q = "\"" + name + "\"";
      calls.add(
          new Call(
              HttpMethod.POST,
              "/admin/v1/experiments",
              "{\"name\":"
                  + q
                  + ",\"teacher\":\"ctr\",\"variants\":[{\"model\":\"ctr\","
                  + "\"weight\":50},{\"model\":\"ctr-b\",\"weight\":50}]}"));
      calls.add(new Call(HttpMethod.POST, "/admin/v1/policies", "{\"model\":" + q + "}"));
      calls.add(
          new Call(HttpMethod.POST, "/admin/v1/capture", "{\"model\":" + q + ",\"rate\":1.0}"));
      calls.add(
          new Call(
              HttpMethod.POST,
              "/admin/v1/optimize",
              "{\"model\":" + q + ",\"rows\":\"capture:ctr\"}"));
    }
    for (Call c : calls) {
      Answer r =
          g.sendHostile(c.method(), c.uri(), a, c.body() == null ? null : Buffer.buffer(c.body()));
      assertTrue(r.status() >= 400 && r.status() < 500, c + " -> " + r);
      assertTrue(r.body().toJsonObject().getString("error") != null, c + " -> " + r);
    }
    try (Stream<Path> outside = Files.list(g.dir)) {
      assertEquals(List.of(g.dir.resolve("store")), outside.toList(), "written outside the store");
    }
    try (Stream<Path> all = Files.walk(g.dir)) {
      assertTrue(
          all.noneMatch(p -> p.getFileName().toString().contains("escaped")),
          "a traversal name became a file");
    }
  }

  @Test
  void cors_is_off_by_default() {
    FuzzGateway g = FuzzGateway.get();
    Map<String, String> origin = Map.of("Origin", "https://evil.example");
    Answer get = g.send(HttpMethod.GET, "/v2", origin, null);
    assertEquals(200, get.status(), get.toString());
    assertNull(get.headers().get("Access-Control-Allow-Origin"), get.headers().toString());
    Answer preflight =
        g.send(
            HttpMethod.OPTIONS,
            "/v2/models/ctr/infer",
            Map.of(
                "Origin", "https://evil.example",
                "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "authorization"),
            null);
    assertTrue(preflight.status() >= 400, preflight.toString());
    assertNull(preflight.headers().get("Access-Control-Allow-Origin"));
    assertNull(preflight.headers().get("Access-Control-Allow-Headers"));
  }
}
