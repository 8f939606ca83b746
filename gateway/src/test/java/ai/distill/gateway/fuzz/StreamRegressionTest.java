package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** NDJSON stream counterexamples the fuzz suite found. */
class StreamRegressionTest {

  @Test
  void a_non_finite_row_fails_only_itself() {
    String body =
        HostileStreams.row(0)
            + "\n"
            + HostileStreams.row(0)
            + "\n"
            + "{\"inputs\":{\"dense\":[1e999,1,2],\"sparse\":[1,2]}}\n"
            + HostileStreams.row(1)
            + "\n";
    FuzzGateway.Answer a =
        FuzzGateway.get()
            .send(
                HttpMethod.POST,
                "/v1/models/ctr/stream",
                Map.of("Content-Type", "application/x-ndjson"),
                Buffer.buffer(body));
    assertEquals(200, a.status(), a.toString());
    String[] lines = a.body().toString().split("\n");
    assertEquals(4, lines.length, a.toString());
    for (int i : new int[] {0, 1, 3}) {
      assertTrue(new JsonObject(lines[i]).containsKey("outputs"), lines[i]);
    }
    assertTrue(new JsonObject(lines[2]).containsKey("error"), lines[2]);
  }
}
