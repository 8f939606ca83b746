package ai.distill.gateway.scale;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
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
 * Reads whole topics from their beginning, on every instance, and hands each record to its topic's
 * handler (in offset order per partition): the experiment events (folded into the same counts
 * everywhere) and the decision states (applied everywhere). Reads every partition itself (no
 * consumer group: each instance needs every record); its lag behind the topics' ends is {@code
 * distill_kafka_consumer_lag_records}. One thread owns the consumer; {@link #close} stops it. A
 * broker that is away at start or later is waited for.
 */
public final class KafkaTopicReader implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(KafkaTopicReader.class.getName());
  // the lag asks the broker for the end offsets: every 2 s, not on every poll
  private static final long LAG_EVERY_NANOS = 2_000_000_000L;

  private final Map<String, Consumer<ConsumerRecord<String, String>>> handlers;
  private final ScaleMetrics metrics;
  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private volatile boolean closed;

  /** Handlers by topic, called on the reader's thread; a handler must not throw. */
  public KafkaTopicReader(
      KafkaConfig config,
      Map<String, Consumer<ConsumerRecord<String, String>>> handlers,
      ScaleMetrics metrics) {
    this.handlers = new LinkedHashMap<>(handlers);
    this.metrics = metrics;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                // under load, fewer and larger fetches (at most 100 ms more lag) cost the broker
                // and this thread far less than one fetch per handful of records
                ConsumerConfig.FETCH_MIN_BYTES_CONFIG,
                64 * 1024,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                100,
                ConsumerConfig.CLIENT_ID_CONFIG,
                "distill-reader"),
            new StringDeserializer(),
            new StringDeserializer());
    this.thread = new Thread(this::run, "distill-kafka-reader");
    thread.setDaemon(true);
  }

  /** Creates the topic when absent (broker defaults where empty). Blocking. */
  public static void ensureTopic(
      KafkaConfig config, String topic, Optional<Integer> partitions, Map<String, String> configs) {
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, Optional.empty()).configs(configs)))
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

  /** Starts reading on its own thread. */
  public KafkaTopicReader start() {
    thread.start();
    return this;
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : handlers.keySet()) {
        List<TopicPartition> of = new ArrayList<>();
        while (of.isEmpty() && !closed) {
          try {
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(10))) {
              of.add(new TopicPartition(topic, p.partition()));
            }
          } catch (org.apache.kafka.common.errors.TimeoutException away) {
            // the broker is away: ask again
          }
        }
        partitions.addAll(of);
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long lagAt = 0;
      while (!closed) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            handlers.get(r.topic()).accept(r);
          } catch (RuntimeException e) {
            // one record that cannot be applied must not stop reading the others
            LOG.log(System.Logger.Level.WARNING, "skipped a record of " + r.topic(), e);
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
        LOG.log(System.Logger.Level.ERROR, "Kafka topics: reading stopped", e);
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
