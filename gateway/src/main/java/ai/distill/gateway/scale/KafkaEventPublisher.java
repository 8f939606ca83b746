package ai.distill.gateway.scale;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes experiment events to a Kafka topic, keyed by user id: an idempotent producer with
 * {@code acks=all}, fed from a bounded queue by one sender thread. {@link #publish} only offers to
 * that queue, so a slow or absent broker never blocks or slows inference: when the queue is full
 * the event is dropped and counted ({@code distill_kafka_events_total{outcome="dropped"}}), and
 * delivery resumes on its own once the broker answers again. Thread-safe; owns the producer and the
 * thread until {@link #close}.
 */
public final class KafkaEventPublisher implements ExperimentEventLog {

  private static final System.Logger LOG = System.getLogger(KafkaEventPublisher.class.getName());

  private final String topic;
  private final BlockingQueue<ExperimentEvent> queue;
  private final KafkaProducer<String, String> producer;
  private final ScaleMetrics metrics;
  private final Thread sender;
  private volatile boolean closed;

  public KafkaEventPublisher(KafkaConfig config, String topic, ScaleMetrics metrics) {
    this.topic = topic;
    this.metrics = metrics;
    this.queue = new ArrayBlockingQueue<>(config.bufferEvents());
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                // the sender thread may wait this long for a broker; inference never does
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                10_000,
                ProducerConfig.CLIENT_ID_CONFIG,
                "distill-events"),
            new StringSerializer(),
            new StringSerializer());
    this.sender = new Thread(this::run, "distill-kafka-events");
    sender.setDaemon(true);
    sender.start();
  }

  @Override
  public boolean publish(ExperimentEvent event) {
    if (closed || !queue.offer(event)) {
      metrics.event("dropped");
      return false;
    }
    return true;
  }

  private void run() {
    while (!closed || !queue.isEmpty()) {
      ExperimentEvent e;
      try {
        e = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
      if (e == null) {
        continue;
      }
      try {
        producer.send(
            new ProducerRecord<>(topic, e.key(), e.encode()),
            (meta, ex) -> {
              if (ex == null) {
                metrics.event("published");
              } else {
                metrics.event("failed");
                LOG.log(System.Logger.Level.DEBUG, "event not delivered: {0}", ex.getMessage());
              }
            });
      } catch (RuntimeException ex) {
        // e.g. the broker is away longer than max.block.ms: this event is lost, later ones retry
        metrics.event("failed");
        LOG.log(
            System.Logger.Level.WARNING, "cannot publish experiment event: {0}", ex.getMessage());
      }
    }
  }

  /** Events waiting in the buffer. */
  public int buffered() {
    return queue.size();
  }

  @Override
  public void close() {
    closed = true;
    try {
      sender.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
  }
}
