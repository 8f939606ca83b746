package ai.distill.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.batching.BatchingConfig;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigTest {

  @TempDir Path dir;

  @Test
  void reads_every_key_of_the_json_form() throws Exception {
    Path file = dir.resolve("gateway.json");
    Files.writeString(
        file,
        """
        {"host": "127.0.0.1", "port": 9000, "admin_token": "s3cret", "max_body_bytes": 1024,
         "workers": 3, "session": {"intra_op_threads": 2, "optimization_level": "extended"},
         "batching": {"max_batch_rows": 32, "max_queue_delay_us": 250, "queue_capacity_rows": 512},
         "models": {"ctr": {"batching": {"max_batch_rows": 8}}},
         "watch_interval_ms": 500, "drain_timeout_ms": 2000}
        """);
    GatewayConfig c = GatewayConfig.fromFile(dir, file);
    assertEquals("127.0.0.1", c.host());
    assertEquals(9000, c.port());
    assertEquals("s3cret", c.adminToken());
    assertEquals(1024, c.maxBodyBytes());
    assertEquals(3, c.workers());
    assertEquals(2, c.session().intraOpThreads());
    assertEquals(OptLevel.EXTENDED_OPT, c.session().optimizationLevel());
    assertEquals(new BatchingConfig(32, 250, 512), c.batching());
    assertEquals(new BatchingConfig(8, 250, 512), c.batching("ctr"));
    assertEquals(new BatchingConfig(32, 250, 512), c.batching("other"));
    assertEquals(500, c.watchInterval().toMillis());
    assertEquals(2000, c.drainTimeout().toMillis());
  }

  @Test
  void queue_capacity_defaults_to_eight_batches_and_shutdown_grace_is_read() throws Exception {
    Path file = dir.resolve("scaled.json");
    Files.writeString(
        file,
        """
        {"batching": {"max_batch_rows": 64},
         "models": {"ctr": {"batching": {"max_batch_rows": 16}},
                    "big": {"batching": {"max_batch_rows": 16, "queue_capacity_rows": 100}}},
         "shutdown_grace_ms": 250}
        """);
    GatewayConfig c = GatewayConfig.fromFile(dir, file);
    assertEquals(512, c.batching().queueCapacityRows());
    assertEquals(128, c.batching("ctr").queueCapacityRows());
    assertEquals(100, c.batching("big").queueCapacityRows());
    assertEquals(250, c.shutdownGrace().toMillis());
    assertEquals(250, c.toBuilder().build().shutdownGrace().toMillis());
    assertEquals(1000, GatewayConfig.builder(dir).build().shutdownGrace().toMillis());
  }

  @Test
  void capture_fsync_interval_is_read_and_defaults_to_one_second() throws Exception {
    Path file = dir.resolve("capture.json");
    Files.writeString(file, "{\"capture\": {\"fsync_interval_ms\": 250}}");
    GatewayConfig c = GatewayConfig.fromFile(dir, file);
    assertEquals(250, c.captureFsyncInterval().toMillis());
    assertEquals(250, c.toBuilder().build().captureFsyncInterval().toMillis());
    assertEquals(1000, GatewayConfig.builder(dir).build().captureFsyncInterval().toMillis());
    Files.writeString(file, "{\"capture\": {\"fsync_interval_ms\": -1}}");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromFile(dir, file));
    assertTrue(e.getMessage().contains("capture.fsync_interval_ms: -1"), e.getMessage());
  }

  @Test
  void unknown_keys_and_bad_values_fail_with_a_message_naming_them() throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\"batching\": {\"max_rows\": 3}}");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromFile(dir, file));
    assertTrue(e.getMessage().contains("unknown key 'batching.max_rows'"), e.getMessage());
    Files.writeString(file, "{\"batching\": {\"max_batch_rows\": 0}}");
    e = assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromFile(dir, file));
    assertTrue(e.getMessage().contains("max_batch_rows : 0 (expected: >= 1)"), e.getMessage());
    Files.writeString(file, "{not json");
    e = assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromFile(dir, file));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
  }

  @Test
  void default_workers_times_intra_op_threads_fit_the_cores() {
    int cores = Runtime.getRuntime().availableProcessors();
    GatewayConfig c =
        GatewayConfig.builder(dir)
            .session(new ai.distill.gateway.runtime.SessionConfig(2, OptLevel.ALL_OPT))
            .build();
    assertTrue(c.workers() >= 1);
    assertTrue(c.workers() * 2 <= Math.max(2, cores), c.workers() + " workers");
  }

  @Test
  void without_a_token_the_gateway_writes_a_private_admin_token_file() throws Exception {
    Assumptionless.skipIfEnvTokenSet();
    Vertx vertx = Vertx.vertx();
    try {
      Gateway gateway =
          Gateway.start(
                  vertx,
                  GatewayConfig.builder(dir.resolve("store")).host("127.0.0.1").port(0).build())
              .await();
      Path token = dir.resolve("store/admin.token");
      assertEquals(gateway.adminToken(), Files.readString(token).trim());
      assertEquals(
          "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
      gateway.close().await();
      Gateway again =
          Gateway.start(
                  vertx,
                  GatewayConfig.builder(dir.resolve("store")).host("127.0.0.1").port(0).build())
              .await();
      assertEquals(gateway.adminToken(), again.adminToken());
      again.close().await();
    } finally {
      vertx.close().await();
    }
  }

  static final class Assumptionless {
    static void skipIfEnvTokenSet() {
      org.junit.jupiter.api.Assumptions.assumeTrue(
          System.getenv(Gateway.ADMIN_TOKEN_ENV) == null,
          Gateway.ADMIN_TOKEN_ENV + " is set: the token file is not used");
    }
  }
}
