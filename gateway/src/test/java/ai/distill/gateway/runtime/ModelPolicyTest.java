package ai.distill.gateway.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.GatewayConfig;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelPolicyTest {

  @Test
  void per_model_policy_is_read_from_the_gateway_config_and_others_get_the_default() {
    GatewayConfig c =
        GatewayConfig.fromJson(
                Path.of("store"),
                new JsonObject(
                    "{\"models\": {\"m\": {\"allow_non_finite\": true, \"probability_outputs\":"
                        + " [\"prob\"], \"timeout_ms\": 250, \"breaker_failures\": 2,"
                        + " \"breaker_open_ms\": 1000, \"batching\": {\"max_batch_rows\": 8}}}}"))
            .build();
    ModelPolicy m = c.modelPolicy("m");
    assertTrue(m.allowNonFinite());
    assertEquals(Set.of("prob"), m.probabilityOutputs());
    assertEquals(Duration.ofMillis(250), m.timeout());
    assertEquals(2, m.breakerFailures());
    assertEquals(Duration.ofSeconds(1), m.breakerOpen());
    assertEquals(8, c.batching("m").maxBatchRows());
    assertEquals(ModelPolicy.DEFAULT, c.modelPolicy("other"));
  }

  @Test
  void bad_values_fail_fast_with_the_key() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                GatewayConfig.fromJson(
                    Path.of("store"),
                    new JsonObject("{\"models\": {\"m\": {\"breaker_failures\": -1}}}")));
    assertEquals("breaker_failures : -1 (expected: >= 0)", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            GatewayConfig.fromJson(
                Path.of("store"), new JsonObject("{\"models\": {\"m\": {\"allow_nan\": true}}}")));
  }
}
