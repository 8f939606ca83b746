package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.distill.gateway.GatewayConfig;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobsConfigTest {

  @Test
  void the_gateway_config_carries_the_jobs_section() {
    GatewayConfig config =
        GatewayConfig.fromJson(
                Path.of("s"),
                new JsonObject(
                    "{\"jobs\": {\"runner\": \"in-process\", \"queue_capacity\": 2, \"child_jvm_options\": [\"-Xmx1g\"]}}"))
            .build();
    assertEquals(new JobsConfig(JobsConfig.Runner.IN_PROCESS, 2, List.of("-Xmx1g")), config.jobs());
    assertEquals(JobsConfig.DEFAULT, GatewayConfig.builder(Path.of("s")).build().jobs());
    assertEquals(config.jobs(), config.toBuilder().build().jobs());
  }

  @Test
  void refuses_what_it_does_not_know() {
    assertEquals(
        "jobs.runner : thread (expected: child or in-process)",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobsConfig.fromJson(new JsonObject("{\"runner\": \"thread\"}")))
            .getMessage());
    assertEquals(
        "unknown key 'jobs.capacity' (expected one of [child_jvm_options, queue_capacity, runner])",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobsConfig.fromJson(new JsonObject("{\"capacity\": 3}")))
            .getMessage());
    assertEquals(
        "jobs.queue_capacity : 0 (expected: >= 1)",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobsConfig.fromJson(new JsonObject("{\"queue_capacity\": 0}")))
            .getMessage());
  }
}
