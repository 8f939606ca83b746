package ai.distill.gateway.scale;

import ai.distill.gateway.http.HttpStatusException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The compacted, one-partition topic {@code <prefix>.experiment-definitions}, keyed by experiment:
 * every new experiment and every next generation of one, from any instance, in one order that every
 * instance applies (the instance that made it too: it installs it only when it reads it back, so
 * all of them go through the same generations). {@link #publish} waits for the broker's ack (admin
 * actions, never inference); {@link #catchUp} reads the topic to its end once at start (only each
 * experiment's latest record is applied, the others are marked superseded), then the {@link
 * KafkaTopicReader} hands over the records after it ({@link #onRecord}). Thread-safe.
 */
final class SharedDefinitions implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(SharedDefinitions.class.getName());
  static final long WAIT_MILLIS = 30_000;

  private final KafkaConfig config;
  private final String topic;
  private final KafkaProducer<String, String> producer;
  // by partition (the topic has one): the offset of the last record applied or skipped here
  private final Map<Integer, Long> applied = new LinkedHashMap<>();
  private volatile Consumer<ConsumerRecord<String, String>> apply = r -> {};
  private volatile Consumer<ConsumerRecord<String, String>> superseded = r -> {};

  SharedDefinitions(KafkaConfig config, String topic) {
    this.config = config;
    this.topic = topic;
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                10_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                (int) WAIT_MILLIS,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                10_000,
                ProducerConfig.CLIENT_ID_CONFIG,
                "distill-definitions"),
            new StringSerializer(),
            new StringSerializer());
  }

  /**
   * What to do with each record applied (in log order) and with each superseded before this
   * instance read it (at {@link #catchUp}); called on the reading thread.
   */
  void handlers(
      Consumer<ConsumerRecord<String, String>> apply,
      Consumer<ConsumerRecord<String, String>> superseded) {
    this.apply = apply;
    this.superseded = superseded;
  }

  /**
   * Appends {@code value} under {@code experiment} and waits until this instance has applied it.
   * Blocking; throws {@link HttpStatusException} 503 when the broker does not take it in time.
   */
  void publish(String experiment, String value) {
    long offset;
    int partition;
    try {
      var meta =
          producer
              .send(new ProducerRecord<>(topic, experiment, value))
              .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
      offset = meta.offset();
      partition = meta.partition();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new HttpStatusException(
          503,
          "experiment "
              + experiment
              + ": the shared definitions topic "
              + topic
              + " did not take it ("
              + cause
              + "); nothing changed, try again when the broker is back");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing " + experiment, e);
    }
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    synchronized (this) {
      while (applied.getOrDefault(partition, -1L) < offset) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          throw new HttpStatusException(
              503,
              "experiment "
                  + experiment
                  + ": published, but this instance has not read it back within "
                  + WAIT_MILLIS
                  + " ms (it applies it when it does)");
        }
        try {
          wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for " + experiment, e);
        }
      }
    }
  }

  /**
   * Reads the topic from its beginning to its end: applies each experiment's latest record, marks
   * the earlier ones superseded. Blocking; call once, before the reader starts.
   */
  void catchUp() {
    Map<String, ConsumerRecord<String, String>> latest = new LinkedHashMap<>();
    List<ConsumerRecord<String, String>> earlier = new ArrayList<>();
    Map<Integer, Long> ends = new LinkedHashMap<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.CLIENT_ID_CONFIG,
                "distill-definitions-catch-up"),
            new StringDeserializer(),
            new StringDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      consumer
          .endOffsets(partitions, Duration.ofSeconds(30))
          .forEach((tp, end) -> ends.put(tp.partition(), end - 1));
      long deadline = System.currentTimeMillis() + WAIT_MILLIS;
      while (partitions.stream()
          .anyMatch(tp -> consumer.position(tp) <= ends.get(tp.partition()))) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(
              "cannot read the experiment definitions of " + topic + " within " + WAIT_MILLIS);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() <= ends.get(r.partition()) && r.key() != null) {
            ConsumerRecord<String, String> before = latest.remove(r.key());
            if (before != null) {
              earlier.add(before);
            }
            latest.put(r.key(), r);
          }
        }
      }
    }
    earlier.forEach(r -> handle(r, superseded));
    latest.values().forEach(r -> handle(r, apply));
    synchronized (this) {
      applied.putAll(ends);
      notifyAll();
    }
    LOG.log(
        System.Logger.Level.INFO,
        "read {0} experiment definitions from {1} ({2} superseded)",
        latest.size(),
        topic,
        earlier.size());
  }

  /** A record the {@link KafkaTopicReader} read: applied unless {@link #catchUp} already had it. */
  void onRecord(ConsumerRecord<String, String> r) {
    synchronized (this) {
      if (r.offset() <= applied.getOrDefault(r.partition(), -1L)) {
        return;
      }
    }
    try {
      handle(r, apply);
    } finally {
      synchronized (this) {
        applied.put(r.partition(), r.offset());
        notifyAll();
      }
    }
  }

  private static void handle(
      ConsumerRecord<String, String> r, Consumer<ConsumerRecord<String, String>> handler) {
    if (r.value() == null) {
      return; // a tombstone: nothing to install
    }
    try {
      handler.accept(r);
    } catch (RuntimeException bad) {
      LOG.log(
          System.Logger.Level.WARNING,
          "ignored the experiment definition of {0} at offset {1}: {2}",
          r.key(),
          r.offset(),
          bad.toString());
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
