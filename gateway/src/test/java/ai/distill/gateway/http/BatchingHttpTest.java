package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.batching.BatchingConfig;
import ai.distill.gateway.testing.CtrRequests;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.store.ModelStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent HTTP requests are merged into batches, and batching does not change results. */
class BatchingHttpTest {

  @TempDir Path dir;

  @Test
  void concurrent_requests_are_merged_and_results_equal_unbatched_runs() throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "ctr", CtrRequests.CTR);
    Vertx vertx = TestGateways.strictVertx();
    // A 20 ms queue delay so that concurrent requests meet in the queue.
    Gateway gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .batching(new BatchingConfig(64, 20_000, 1000))
                    .build())
            .await();
    try {
      WebClient client = TestGateways.client(vertx);
      Random random = new Random(42);
      int requests = 40;
      List<float[]> dense = new ArrayList<>();
      List<long[]> sparse = new ArrayList<>();
      List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        int rows = 1 + i % 3;
        float[] d = new float[rows * 3];
        long[] s = new long[rows * 2];
        for (int j = 0; j < d.length; j++) {
          d[j] = (float) random.nextGaussian();
        }
        for (int j = 0; j < s.length; j++) {
          s[j] = random.nextInt(10);
        }
        dense.add(d);
        sparse.add(s);
        responses.add(
            client
                .post(gateway.port(), "127.0.0.1", "/v2/models/ctr/infer")
                .sendJsonObject(CtrRequests.request("b" + i, d, s)));
      }
      Future.all(responses).await(60, TimeUnit.SECONDS);
      for (int i = 0; i < requests; i++) {
        HttpResponse<Buffer> r = responses.get(i).result();
        assertEquals(200, r.statusCode(), r.bodyAsString());
        JsonObject body = r.bodyAsJsonObject();
        assertEquals("b" + i, body.getString("id"));
        JsonArray data = body.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
        float[] expected = CtrRequests.ort(dense.get(i), sparse.get(i));
        assertEquals(expected.length, data.size());
        for (int row = 0; row < expected.length; row++) {
          // Row results do not depend on batch composition here; allow for kernel-dependent
          // rounding in the last place only.
          assertEquals(
              expected[row],
              data.getFloat(row),
              Math.ulp(expected[row]) * 4,
              "request " + i + " row " + row);
        }
      }
      String metrics =
          client.get(gateway.port(), "127.0.0.1", "/metrics").send().await().bodyAsString();
      double batches = value(metrics, "distill_batch_rows_count{model=\"ctr\",version=\"1\"}");
      double rows = value(metrics, "distill_batch_rows_sum{model=\"ctr\",version=\"1\"}");
      // Warm-up runs bypass the batcher, so these count served rows only.
      int expectedRows = 0;
      for (float[] d : dense) {
        expectedRows += d.length / 3;
      }
      assertEquals(expectedRows, rows);
      assertTrue(
          batches < requests,
          "expected merged batches, got " + batches + " for " + requests + " requests");
      double singleRowBatches =
          value(metrics, "distill_batch_rows_bucket{model=\"ctr\",version=\"1\",le=\"1.0\"}");
      assertTrue(singleRowBatches < batches, "some batch must hold more than one row");
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }

  static double value(String exposition, String series) {
    for (String line : exposition.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError("no series " + series + " in\n" + exposition);
  }
}
