package ai.distill.gateway.scale;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Which instance takes experiment decisions, elected by Kafka itself: every instance's consumer
 * joins one consumer group on a single-partition topic, and the member the group coordinator
 * assigns partition 0 is the decider. When it leaves, or stops heartbeating for the session timeout
 * (killed, partitioned away), the group rebalances and another member gets the partition. Nothing
 * is ever read from the topic. One thread owns the consumer (it keeps polling, so the membership
 * stays alive); {@link #isDecider} is safe from any thread.
 */
public final class KafkaDeciderElection implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(KafkaDeciderElection.class.getName());

  private final String topic;
  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private volatile boolean decider;
  private volatile boolean closed;
  private volatile boolean leave = true;

  public KafkaDeciderElection(KafkaConfig config, String topic, String group, String instance) {
    this.topic = topic;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG,
                group,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
                config.sessionTimeoutMs(),
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
                Math.max(50, config.sessionTimeoutMs() / 4),
                ConsumerConfig.CLIENT_ID_CONFIG,
                "distill-election-" + instance),
            new StringDeserializer(),
            new StringDeserializer());
    this.thread = new Thread(this::run, "distill-kafka-election");
    thread.setDaemon(true);
  }

  /** Joins the group on its own thread. */
  public KafkaDeciderElection start() {
    thread.start();
    return this;
  }

  /** True while this instance holds partition 0 of the election topic. */
  public boolean isDecider() {
    return decider;
  }

  private void run() {
    try {
      consumer.subscribe(
          List.of(topic),
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              if (partitions.contains(new TopicPartition(topic, 0))) {
                decider = true;
                LOG.log(System.Logger.Level.INFO, "this instance now takes experiment decisions");
              }
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
              if (partitions.contains(new TopicPartition(topic, 0))) {
                lost();
              }
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
              lost();
            }
          });
      while (!closed) {
        // nothing is ever read: the poll only keeps the membership alive (heartbeats run on
        // Kafka's own thread), so it may wait long
        consumer.poll(Duration.ofSeconds(1));
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.ERROR, "decider election stopped", e);
      }
    } finally {
      decider = false;
      consumer.close(
          CloseOptions.groupMembershipOperation(
                  leave
                      ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                      : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP)
              .withTimeout(Duration.ofSeconds(5)));
    }
  }

  private void lost() {
    if (decider) {
      decider = false;
      LOG.log(System.Logger.Level.INFO, "this instance no longer takes experiment decisions");
    }
  }

  /** Leaves the group (another member takes over at once). */
  @Override
  public void close() {
    stop(true);
  }

  /**
   * Stops without leaving the group, as a killed process would: the others take over only once the
   * session times out. For tests.
   */
  void abort() {
    stop(false);
  }

  private void stop(boolean leaveGroup) {
    leave = leaveGroup;
    closed = true;
    decider = false;
    if (thread.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(5));
      return;
    }
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
