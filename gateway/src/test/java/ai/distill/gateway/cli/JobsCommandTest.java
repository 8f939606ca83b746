package ai.distill.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.jobs.CanaryHook;
import ai.distill.gateway.jobs.JobRoutes;
import ai.distill.gateway.testing.TestGateways;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class JobsCommandTest {

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void lists_a_stores_job_records_offline() throws Exception {
    Files.createDirectories(dir.resolve("jobs"));
    Files.writeString(
        dir.resolve("jobs/20250101-000000-000-abcd.json"),
        new JsonObject()
            .put("id", "20250101-000000-000-abcd")
            .put("source", "ctr")
            .put("action", "quantize")
            .put("name", "ctr-int8")
            .put("rows", "capture")
            .put("state", "interrupted")
            .put("stage", "calibrate")
            .put("progress", 0.4)
            .put("created", "2025-01-01T00:00:00Z")
            .put("error", "the gateway stopped")
            .encode());
    assertEquals(0, run("jobs", "list", "--store", dir.toString()), err.toString());
    assertTrue(out.toString().contains("20250101-000000-000-abcd"), out.toString());
    assertTrue(out.toString().contains("interrupted"), out.toString());
    assertTrue(out.toString().contains("40%"), out.toString());
  }

  @Test
  void follows_a_running_gateways_jobs_with_its_admin_token() throws Exception {
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway = Gateway.start(vertx, TestGateways.config(dir).build()).await();
    JobRoutes jobs = JobRoutes.install(gateway, CanaryHook.NONE).await();
    try {
      String url = "http://127.0.0.1:" + gateway.port();
      assertEquals(
          0,
          run("jobs", "list", "--url", url, "--admin-token", "test-token", "--json"),
          err.toString());
      assertEquals("{\"jobs\":[]}", out.toString().trim());
      assertEquals(1, run("jobs", "show", "nope", "--url", url, "--admin-token", "test-token"));
      assertTrue(err.toString().contains("404 job 'nope' is unknown"), err.toString());
      assertEquals(1, run("jobs", "cancel", "nope", "--url", url, "--admin-token", "wrong"));
      assertTrue(err.toString().contains("403 admin token is wrong"), err.toString());
    } finally {
      jobs.close().await();
      gateway.close().await();
      vertx.close().await();
    }
  }
}
