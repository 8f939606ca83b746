package ai.distill.gateway.scale;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Rows read from a Kafka topic (the capture topic, whose record values are rows-format lines): a
 * {@code kafka://[host:port[,host:port...]/]topic[#key]} data source (with {@code #key}: only one
 * capture stream's records) copied into a rows file, which the optimizer then reads like any other.
 * The copy is frozen at the topic's end offsets when it starts (captures keep arriving while a job
 * runs). Stateless; blocking.
 *
 * <pre>{@code
 * long rows = KafkaRows.copy(KafkaRows.parse("kafka://distill.captures", "localhost:9092"), file);
 * }</pre>
 */
public final class KafkaRows {

  public static final String SCHEME = "kafka://";
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  private KafkaRows() {}

  /** Where the rows are; {@code key}: only the records with this key (null: all). */
  public record Source(String bootstrap, String topic, String key) {}

  public static boolean isKafka(String data) {
    return data != null && data.startsWith(SCHEME);
  }

  /**
   * Parses {@code kafka://topic} (at {@code defaultBootstrap}) or {@code kafka://host:port/topic}.
   *
   * @throws IllegalArgumentException naming what is missing
   */
  public static Source parse(String uri, String defaultBootstrap) {
    String rest = uri.substring(SCHEME.length());
    int hash = rest.indexOf('#');
    String key = hash < 0 ? null : rest.substring(hash + 1);
    rest = hash < 0 ? rest : rest.substring(0, hash);
    int slash = rest.lastIndexOf('/');
    String bootstrap = slash < 0 ? defaultBootstrap : rest.substring(0, slash);
    String topic = rest.substring(slash + 1);
    if (!topic.matches("[A-Za-z0-9._-]{1,249}")) {
      throw new IllegalArgumentException(
          "rows: '"
              + uri
              + "' (expected: kafka://[host:port/]<topic>, e.g. kafka://distill.captures)");
    }
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException(
          "rows: '"
              + uri
              + "' names no broker and none is configured (expected: kafka://host:port/"
              + topic
              + ", or --kafka / $DISTILL_KAFKA)");
    }
    return new Source(bootstrap, topic, key);
  }

  /**
   * Copies every record value on the topic now into {@code out} (one line each); returns how many.
   */
  public static long copy(Source source, Path out) throws IOException {
    Files.createDirectories(out.toAbsolutePath().getParent());
    long rows = 0;
    try (KafkaConsumer<String, String> consumer =
            new KafkaConsumer<>(
                Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    source.bootstrap(),
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    false,
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    "earliest",
                    ConsumerConfig.CLIENT_ID_CONFIG,
                    "distill-rows"),
                new StringDeserializer(),
                new StringDeserializer());
        BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      List<TopicPartition> partitions = new ArrayList<>();
      List<PartitionInfo> infos = consumer.partitionsFor(source.topic(), TIMEOUT);
      if (infos == null || infos.isEmpty()) {
        throw new IOException("no Kafka topic " + source.topic() + " at " + source.bootstrap());
      }
      for (PartitionInfo p : infos) {
        partitions.add(new TopicPartition(source.topic(), p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "reading " + source.topic() + " at " + source.bootstrap() + " took over " + TIMEOUT);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))
              && r.value() != null
              && (source.key() == null || source.key().equals(r.key()))) {
            w.write(r.value());
            w.write('\n');
            rows++;
          }
        }
      }
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new IOException("cannot read Kafka topic " + source.topic() + ": " + e.getMessage(), e);
    }
    return rows;
  }

  private static boolean caughtUp(
      KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The command line with every {@code --data kafka://...} (or {@code --data=kafka://...}) replaced
   * by a temporary rows file holding the topic's rows (deleted when the JVM exits); the broker is
   * the URI's, else {@code $DISTILL_KAFKA}. Other arguments are kept as they are.
   */
  public static String[] resolveDataArgs(String[] args) throws IOException {
    String[] out = args.clone();
    for (int i = 0; i < out.length; i++) {
      boolean joined = out[i].startsWith("--data=");
      String value = joined ? out[i].substring("--data=".length()) : null;
      if (!joined && out[i].equals("--data") && i + 1 < out.length) {
        value = out[i + 1];
      }
      if (!isKafka(value)) {
        continue;
      }
      Path file = Files.createTempFile("distill-kafka-rows-", ".jsonl");
      file.toFile().deleteOnExit();
      copy(parse(value, System.getenv("DISTILL_KAFKA")), file);
      if (joined) {
        out[i] = "--data=" + file;
      } else {
        out[i + 1] = file.toString();
        i++;
      }
    }
    return out;
  }
}
