package ai.distill.gateway.scale;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: a broker for trying two gateways by hand (README, "Two instances against one
 * broker"). Runs only with {@code -Ddistill.kafka.dev=true}: starts the in-process KRaft broker,
 * prints its bootstrap address, and serves until the build is stopped (Ctrl-C).
 */
class DevKafkaBroker {

  @Test
  @EnabledIfSystemProperty(named = "distill.kafka.dev", matches = "true")
  void serve_a_broker_until_stopped() throws Exception {
    Path dir = Files.createTempDirectory("distill-kafka-");
    try (InProcessKafka kafka = InProcessKafka.start(dir)) {
      System.out.println("distill dev broker (KRaft) ready: --kafka " + kafka.bootstrap());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
