package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.testing.ChildGateway;
import ai.distill.store.ModelStore;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway (a child JVM, jobs in grandchild JVMs as in production) killed with SIGKILL while a job
 * runs: the job's own JVM goes away with it, nothing is published, and after a restart the job
 * shows as interrupted.
 */
class JobCrashTest {

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  private Process gateway(Path log) throws Exception {
    return ChildGateway.start(dir, log);
  }

  private static int port(Process p) throws Exception {
    return ChildGateway.port(p);
  }

  private HttpResponse<String> call(int port, String method, String path, String body)
      throws Exception {
    String token = Files.readString(dir.resolve("admin.token")).trim();
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void a_gateway_killed_mid_job_publishes_nothing_and_shows_the_job_interrupted() throws Exception {
    ModelStore store = JobFixtures.store(dir);
    JobFixtures.rows(dir.resolve("rows/mlp.jsonl"), 200_000);
    Process first = gateway(dir.resolve("first.log"));
    String id;
    try {
      int port = port(first);
      HttpResponse<String> accepted =
          call(port, "POST", "/admin/v1/optimize", JobFixtures.quantizeBody("mlp-int8").encode());
      assertEquals(202, accepted.statusCode(), accepted.body());
      id = new JsonObject(accepted.body()).getString("job");
      long deadline = System.nanoTime() + 60_000_000_000L;
      String state = "queued";
      while (!state.equals("running")) {
        assertTrue(System.nanoTime() < deadline, "the job never started");
        state =
            new JsonObject(call(port, "GET", "/admin/v1/jobs/" + id, null).body())
                .getString("state");
        assertTrue(state.equals("queued") || state.equals("running"), state);
      }
    } finally {
      first.destroyForcibly(); // SIGKILL: no shutdown hook runs
      first.waitFor();
    }
    // The job's JVM stops when its parent's pipe closes; give it a moment to notice.
    Thread.sleep(3_000);

    Process second = gateway(dir.resolve("second.log"));
    try {
      int port = port(second);
      JobRecord.State state =
          JobRecord.State.parse(
              new JsonObject(call(port, "GET", "/admin/v1/jobs/" + id, null).body())
                  .getString("state"));
      assertEquals(JobRecord.State.INTERRUPTED, state);
      assertTrue(store.versions("mlp-int8").isEmpty(), "nothing published");
      HttpResponse<String> again =
          call(port, "POST", "/admin/v1/optimize", JobFixtures.quantizeBody("mlp-int8").encode());
      assertEquals(202, again.statusCode(), "the source is free again: " + again.body());
    } finally {
      second.destroy();
      second.waitFor();
    }
  }
}
