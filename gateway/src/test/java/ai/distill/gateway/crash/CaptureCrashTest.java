package ai.distill.gateway.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.testing.ChildGateway;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway (a child JVM, as in production) killed with SIGKILL while it writes captured traffic.
 * What RELIABILITY.md promises for captures: a row is acknowledged once {@code GET /v1/capture}
 * counts it in {@code written_rows} (handed to the OS, which survives the process); every
 * acknowledged row is on disk after the kill, readers skip at most one torn line per segment, and
 * the next run starts a new segment and serves and captures again.
 */
class CaptureCrashTest {

  private static final float[] DENSE = {0.5f, -1.25f, 2f, 1f, 0f, -0.5f};
  private static final long[] SPARSE = {1, 9, 0, 3};

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  private Process gateway(Path log) throws Exception {
    return ChildGateway.start(dir, log, "--admin-token", "t");
  }

  private static int port(Process p) throws Exception {
    return ChildGateway.port(p);
  }

  private HttpResponse<String> call(int port, String method, String path, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer t")
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** One request and its click feedback; returns the response id once the feedback got a 200. */
  private String servedAndLabelled(int port) throws Exception {
    HttpResponse<String> r =
        call(
            port,
            "POST",
            "/v2/models/ctr/infer",
            CtrRequests.request(null, DENSE, SPARSE).encode());
    assertEquals(200, r.statusCode(), r.body());
    String id = new JsonObject(r.body()).getString("id");
    HttpResponse<String> fb =
        call(
            port,
            "POST",
            "/v1/feedback",
            new JsonObject().put("id", id).put("clicks", new JsonArray().add(1).add(0)).encode());
    assertEquals(200, fb.statusCode(), fb.body());
    return id;
  }

  private long written(int port) throws Exception {
    return new JsonObject(call(port, "GET", "/v1/capture", null).body()).getLong("written_rows");
  }

  @Test
  void every_acknowledged_capture_row_survives_a_kill_and_at_most_one_line_per_segment_is_torn()
      throws Exception {
    ModelStore store = ModelStore.open(dir);
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    Set<String> acknowledged = new HashSet<>();
    Process first = gateway(dir.resolve("first.log"));
    AtomicBoolean stop = new AtomicBoolean();
    Thread traffic = null;
    try {
      int port = port(first);
      HttpResponse<String> rate =
          call(port, "POST", "/admin/v1/capture", "{\"model\": \"ctr\", \"rate\": 1.0}");
      assertTrue(rate.statusCode() / 100 == 2, rate.body());
      Set<String> sent = new HashSet<>();
      for (int i = 0; i < 100; i++) {
        sent.add(servedAndLabelled(port));
      }
      // Acknowledged: counted as written (2 rows per request).
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (written(port) < 2L * sent.size()) {
        assertTrue(System.nanoTime() < deadline, "the capture rows were never written");
        Thread.sleep(50);
      }
      acknowledged.addAll(sent);
      // Then keep writing while the process is killed.
      traffic =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    servedAndLabelled(port);
                  } catch (Exception | AssertionError e) {
                    return; // the gateway went away
                  }
                }
              });
      traffic.start();
      Thread.sleep(300 + (long) (Math.random() * 700));
    } finally {
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
      first.waitFor();
      stop.set(true);
      if (traffic != null) {
        traffic.join(10_000);
      }
    }

    Path segments = store.capturesDir().resolve("ctr");
    Set<String> onDisk = new HashSet<>();
    int torn = 0;
    List<Path> files = RowsReader.segments(segments);
    for (Path segment : files) {
      try (RowsReader reader = RowsReader.open(segment)) {
        while (reader.hasNext()) {
          Row row = reader.next();
          onDisk.add(row.extra().get("id").asText());
          assertTrue(row.label() != null, "a labelled row: " + row);
        }
        assertTrue(reader.skippedTornLines() <= 1, segment + ": " + reader.skippedTornLines());
        torn += reader.skippedTornLines();
      }
    }
    Set<String> lost = new HashSet<>(acknowledged);
    lost.removeAll(onDisk);
    assertEquals(Set.of(), lost, "acknowledged capture rows lost by the kill");
    System.err.printf(
        "[crash] capture: %d acknowledged before the kill, %d ids on disk after it, %d torn"
            + " lines in %d segments%n",
        acknowledged.size(), onDisk.size(), torn, files.size());

    Process second = gateway(dir.resolve("second.log"));
    try {
      int port = port(second);
      call(port, "POST", "/admin/v1/capture", "{\"model\": \"ctr\", \"rate\": 1.0}");
      String id = servedAndLabelled(port);
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (written(port) < 2) {
        assertTrue(System.nanoTime() < deadline, "the restarted gateway captured nothing");
        Thread.sleep(50);
      }
      assertTrue(
          RowsReader.segments(segments).size() > files.size(), "the new run has a new segment");
      Set<String> after = new HashSet<>();
      try (RowsReader reader = RowsReader.openAll(RowsReader.segments(segments))) {
        reader.forEachRemaining(r -> after.add(r.extra().get("id").asText()));
      }
      assertTrue(after.contains(id), "the new run's row is readable after the torn segment");
      assertTrue(after.containsAll(acknowledged));
    } finally {
      second.destroyForcibly();
      second.waitFor();
    }
  }
}
