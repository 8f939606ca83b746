package ai.distill.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.loadtest.FakeOipServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line: bad input exits 2 with a one-line reason before any load; a short run writes
 * its files.
 */
class LoadTestMainTest {
  static Vertx vertx;
  static FakeOipServer server;
  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = new FakeOipServer(vertx, "ctr").start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = LoadTestMain.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void unreachable_gateway_exits_2_with_how_to_fix_it() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Run r = run("steady", "--url", "http://127.0.0.1:" + port, "--model", "ctr", "--rate", "10");
    assertEquals(2, r.exit());
    assertTrue(
        r.err()
            .startsWith("distill-loadtest: cannot reach the gateway at http://127.0.0.1:" + port),
        r.err());
    assertTrue(r.err().contains("is it running?"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
  }

  @Test
  void unknown_model_exits_2_before_any_request_is_sent() {
    long before = server.inferRequests();
    Run r = run("steady", "--url", server.url(), "--model", "nope", "--rate", "10");
    assertEquals(2, r.exit());
    assertTrue(
        r.err()
            .startsWith(
                "distill-loadtest: unknown model 'nope': the gateway at "
                    + server.url()
                    + " answered 404"),
        r.err());
    assertEquals(before, server.inferRequests());
  }

  @Test
  void rows_that_do_not_fit_the_model_exit_2_before_any_request_is_sent() throws Exception {
    Path rows = dir.resolve("rows.jsonl");
    Files.writeString(rows, "{\"inputs\": {\"dense\": [1, 2], \"sparse\": [0]}}\n");
    long before = server.inferRequests();
    Run r =
        run(
            "steady",
            "--url",
            server.url(),
            "--model",
            "ctr",
            "--rows",
            rows.toString(),
            "--rate",
            "10");
    assertEquals(2, r.exit());
    assertEquals(
        "distill-loadtest: row 1 input 'dense' has 2 values but model 'ctr' expects 13 per row (shape [-1, 13])",
        r.err().strip());
    assertEquals(before, server.inferRequests());
  }

  @Test
  void rows_with_an_input_the_model_lacks_exit_2() throws Exception {
    Path rows = dir.resolve("rows.jsonl");
    Files.writeString(
        rows,
        "{\"inputs\": {\"dense\": [0,0,0,0,0,0,0,0,0,0,0,0,0], \"sparse\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], \"age\": [3]}}\n");
    Run r =
        run(
            "steady",
            "--url",
            server.url(),
            "--model",
            "ctr",
            "--rows",
            rows.toString(),
            "--rate",
            "10");
    assertEquals(2, r.exit());
    assertEquals(
        "distill-loadtest: rows have input 'age' that model 'ctr' does not declare (model inputs: dense, sparse)",
        r.err().strip());
  }

  @Test
  void missing_rows_file_exits_2() {
    Run r =
        run(
            "steady",
            "--url",
            server.url(),
            "--model",
            "ctr",
            "--rows",
            dir.resolve("none.jsonl").toString(),
            "--rate",
            "10");
    assertEquals(2, r.exit());
    assertTrue(r.err().startsWith("distill-loadtest: rows file not found: "), r.err());
  }

  @Test
  void non_loopback_url_is_refused() {
    Run r = run("steady", "--url", "http://10.1.2.3:8080", "--model", "ctr", "--rate", "10");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("is not a loopback address"), r.err());
  }

  @Test
  void steady_needs_exactly_one_of_rate_and_concurrency() {
    Run r = run("steady", "--url", server.url(), "--model", "ctr");
    assertEquals(2, r.exit());
    assertEquals(
        "distill-loadtest: steady needs exactly one of --rate R (open loop) or --concurrency C (closed loop)",
        r.err().strip());
  }

  @Test
  void missing_required_option_exits_2_with_usage() {
    Run r = run("steady", "--rate", "10");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("Missing required option: '--model=<model>'"), r.err());
  }

  @Test
  void short_steady_run_prints_the_table_and_writes_json_and_csv() throws Exception {
    Path base = dir.resolve("steady");
    Run r =
        run(
            "steady",
            "--url",
            server.url(),
            "--model",
            "ctr",
            "--rows-per-request",
            "4",
            "--rate",
            "100",
            "--warmup",
            "200ms",
            "--window",
            "500ms",
            "--stable-windows",
            "1",
            "--max-windows",
            "1",
            "--out",
            base.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(
        r.out().lines().anyMatch(l -> l.matches("steady +gateway +ctr +100 req/s +4 .*")), r.out());
    JsonObject json = new JsonObject(Files.readString(dir.resolve("steady.json")));
    JsonObject m = json.getJsonArray("measurements").getJsonObject(0);
    assertEquals(50, m.getLong("sent"));
    assertEquals(50, m.getJsonObject("outcomes").getLong("200"));
    assertEquals(4, m.getInteger("rows_per_request"));
    assertEquals(0.5, m.getJsonObject("server_ms").getDouble("queue"), 1e-9);
    assertEquals(2, Files.readAllLines(dir.resolve("steady.csv")).size());
  }

  @Test
  void report_spike_is_on_by_default_and_no_spike_turns_it_off() {
    ReportCommand on = new ReportCommand();
    new picocli.CommandLine(on).parseArgs("--out", "x");
    ReportCommand off = new ReportCommand();
    new picocli.CommandLine(off).parseArgs("--out", "x", "--no-spike");
    assertTrue(on.spike);
    assertTrue(!off.spike);
  }

  @Test
  void report_with_a_missing_model_file_exits_2() {
    Run r =
        run(
            "report",
            "--out",
            dir.resolve("report").toString(),
            "--model-file",
            dir.resolve("none.onnx").toString());
    assertEquals(2, r.exit());
    assertTrue(
        r.err()
            .startsWith(
                "distill-loadtest: --model-file " + dir.resolve("none.onnx") + " does not exist"),
        r.err());
  }
}
