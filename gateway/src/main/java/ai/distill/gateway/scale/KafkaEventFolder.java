package ai.distill.gateway.scale;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the experiment-event topic from its beginning, on every instance, and folds each event into
 * an {@link EventFold}: so every instance reports the same counts once it has caught up, and a
 * restarted instance rebuilds them. Reads every partition itself (no consumer group: each instance
 * needs all events); its lag behind the topic's end is {@code distill_kafka_consumer_lag_records}.
 * One thread owns the consumer; {@link #close} stops it.
 */
public final class KafkaEventFolder implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(KafkaEventFolder.class.getName());
  private static final long LAG_EVERY_NANOS = 500_000_000L;

  private final KafkaConfig config;
  private final String topic;
  private final EventFold fold;
  private final ScaleMetrics metrics;
  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private volatile boolean closed;

  public KafkaEventFolder(KafkaConfig config, String topic, EventFold fold, ScaleMetrics metrics) {
    this.config = config;
    this.topic = topic;
    this.fold = fold;
    this.metrics = metrics;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.CLIENT_ID_CONFIG, "distill-fold"),
            new StringDeserializer(),
            new StringDeserializer());
    this.thread = new Thread(this::run, "distill-kafka-fold");
    thread.setDaemon(true);
  }

  /** Creates the topic when absent (broker defaults for partitions and replicas). Blocking. */
  public static void ensureTopic(KafkaConfig config, String topic) {
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())))
          .all()
          .get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create Kafka topic "
                + topic
                + " at "
                + config.bootstrap()
                + ": "
                + e.getCause(),
            e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating Kafka topic " + topic, e);
    }
  }

  /** Starts folding on its own thread. */
  public KafkaEventFolder start() {
    thread.start();
    return this;
  }

  public EventFold fold() {
    return fold;
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      while (partitions.isEmpty() && !closed) {
        try {
          for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(10))) {
            partitions.add(new TopicPartition(topic, p.partition()));
          }
        } catch (org.apache.kafka.common.errors.TimeoutException away) {
          // the broker is away: ask again
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long lagAt = 0;
      while (!closed) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            metrics.folded(fold.fold(ExperimentEvent.decode(r.value())) ? "counted" : "duplicate");
          } catch (IllegalArgumentException bad) {
            metrics.folded("invalid");
          }
        }
        long now = System.nanoTime();
        if (now - lagAt > LAG_EVERY_NANOS) {
          lagAt = now;
          updateLag(partitions);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.ERROR, "experiment events: folding stopped", e);
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void updateLag(List<TopicPartition> partitions) {
    try {
      long lag = 0;
      for (Map.Entry<TopicPartition, Long> end :
          consumer.endOffsets(partitions, Duration.ofSeconds(2)).entrySet()) {
        lag += Math.max(0, end.getValue() - consumer.position(end.getKey()));
      }
      metrics.lag(lag);
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      // the broker is away: the last figure stands until it answers again
    }
  }

  @Override
  public void close() {
    closed = true;
    if (!thread.isAlive() && thread.getState() == Thread.State.NEW) {
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
