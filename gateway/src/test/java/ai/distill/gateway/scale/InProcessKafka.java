package ai.distill.gateway.scale;

import java.nio.file.Path;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft broker (combined broker and controller) started in this JVM from Kafka's
 * own test kit, listening on loopback only; its logs live under {@code dir}. For tests; {@link
 * #close} stops it.
 *
 * <pre>{@code
 * try (InProcessKafka kafka = InProcessKafka.start(tempDir)) {
 *   producerProps.put("bootstrap.servers", kafka.bootstrap());
 * }
 * }</pre>
 */
public final class InProcessKafka implements AutoCloseable {

  private final KafkaClusterTestKit cluster;

  private InProcessKafka(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  public static InProcessKafka start(Path dir) throws Exception {
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(dir)
                    .build())
            // one broker: internal topics cannot have more replicas than that
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("offsets.topic.num.partitions", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            // tests kill a decider and wait for its session to time out: allow short sessions
            .setConfigProp("group.min.session.timeout.ms", "500")
            .setConfigProp("num.partitions", "3")
            .build();
    try {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
    return new InProcessKafka(cluster);
  }

  /** {@code host:port} of the broker. */
  public String bootstrap() {
    return cluster.bootstrapServers();
  }

  /**
   * Stops the broker side of the node (the controller, which keeps the topics' metadata, stays up),
   * as Kafka's own {@code ClusterInstance.shutdownBroker} does.
   */
  void stopBroker() {
    cluster.brokers().values().forEach(b -> b.shutdown());
  }

  /** Starts the stopped broker again on its log directory; returns when it is ready. */
  void startBroker() throws Exception {
    cluster.brokers().values().forEach(b -> b.startup());
    cluster.waitForReadyBrokers();
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
