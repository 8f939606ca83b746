package ai.distill.gateway.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobRoutes;
import ai.distill.gateway.testing.TestGateways;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policies API: checked bodies, listed with their state, removed, behind the admin token. */
class LoopRoutesTest {

  @TempDir Path dir;
  private Vertx vertx;
  private Gateway gateway;
  private JobRoutes jobs;
  private LoopRoutes loop;
  private WebClient client;

  @AfterEach
  void stop() {
    loop.close();
    jobs.close().await();
    gateway.close().await();
    vertx.close().await();
    assertEquals(List.of(), TestGateways.drainBlockedWarnings(), "nothing blocked an event loop");
  }

  private HttpResponse<Buffer> send(String method, String path, JsonObject body, boolean auth) {
    var request =
        client.request(
            io.vertx.core.http.HttpMethod.valueOf(method), gateway.port(), "127.0.0.1", path);
    if (auth) {
      request.putHeader("Authorization", "Bearer " + gateway.adminToken());
    }
    return (body == null ? request.send() : request.sendJsonObject(body)).await();
  }

  @Test
  void policies_are_checked_listed_and_removed() throws Exception {
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, TestGateways.config(dir).build()).await();
    jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();
    loop = LoopRoutes.install(gateway, jobs.service(), 100).await();
    client = TestGateways.client(vertx);

    assertEquals(401, send("GET", "/admin/v1/policies", null, false).statusCode());
    HttpResponse<Buffer> bad =
        send(
            "POST",
            "/admin/v1/policies",
            new JsonObject().put("model", "ctr-int8").put("psi_threshold", -1),
            true);
    assertEquals(400, bad.statusCode());
    assertEquals(
        "psi_threshold: -1 (expected: a number > 0; 0.1 moderate, 0.25 a real shift)",
        bad.bodyAsJsonObject().getString("error"));

    HttpResponse<Buffer> created =
        send(
            "POST",
            "/admin/v1/policies",
            new JsonObject().put("model", "ctr-int8").put("rows", "capture:ab"),
            true);
    assertEquals(201, created.statusCode(), created.bodyAsString());
    assertEquals(2_000, created.bodyAsJsonObject().getJsonObject("policy").getLong("min_rows"));

    // The loop checks it on its own: the model is not in the store, and it says so.
    long deadline = System.nanoTime() + 10_000_000_000L;
    JsonObject listed;
    do {
      Thread.sleep(50);
      listed =
          send("GET", "/admin/v1/policies", null, true)
              .bodyAsJsonObject()
              .getJsonArray("policies")
              .getJsonObject(0);
    } while (listed.getString("last_action").equals("not checked yet")
        && System.nanoTime() < deadline);
    assertEquals("model 'ctr-int8' is not in the store", listed.getString("last_action"));

    assertEquals(204, send("DELETE", "/admin/v1/policies/ctr-int8", null, true).statusCode());
    HttpResponse<Buffer> gone = send("DELETE", "/admin/v1/policies/ctr-int8", null, true);
    assertEquals(404, gone.statusCode());
    assertTrue(gone.bodyAsJsonObject().getString("error").contains("has no policy"));
  }

  @Test
  void the_config_file_carries_policies() throws Exception {
    java.nio.file.Path file = dir.resolve("gateway.json");
    java.nio.file.Files.writeString(
        file,
        "{\"port\": 0, \"host\": \"127.0.0.1\", \"policies\": [{\"model\": \"ctr-int8\","
            + " \"min_rows\": 500, \"canary\": {\"experiment\": \"ab\", \"weight\": 5}}]}");
    vertx = TestGateways.strictVertx();
    gateway = Gateway.start(vertx, ai.distill.gateway.GatewayConfig.fromFile(dir, file)).await();
    jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();
    loop = LoopRoutes.install(gateway, jobs.service()).await();
    client = TestGateways.client(vertx);

    JsonObject policy =
        send("GET", "/admin/v1/policies", null, true)
            .bodyAsJsonObject()
            .getJsonArray("policies")
            .getJsonObject(0)
            .getJsonObject("policy");
    assertEquals(500, policy.getLong("min_rows"));
    assertEquals("capture:ctr-int8", policy.getString("rows"));
    assertEquals(5, policy.getJsonObject("canary").getInteger("weight"));
  }
}
