package ai.distill.gateway.scale;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes records to Kafka — experiment events keyed by user, decision states keyed by
 * experiment, captured rows — through one idempotent producer with {@code acks=all}, fed from one
 * bounded queue by one sender thread. {@link #publish} only offers to that queue, so a slow or
 * absent broker never blocks or slows inference: when the queue is full the record is dropped and
 * counted ({@code distill_kafka_records_total{kind, outcome="dropped"}}), and delivery resumes on
 * its own once the broker answers again. Thread-safe; owns the producer and the thread until {@link
 * #close}.
 */
public final class KafkaRecordPublisher implements ExperimentEventLog {

  private static final System.Logger LOG = System.getLogger(KafkaRecordPublisher.class.getName());

  /** What kind of record (the {@code kind} label). */
  public enum Kind {
    EVENT,
    DECISION,
    CAPTURE;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  // value: a String, or an ExperimentEvent encoded on the sender thread (not the serving one)
  /** Records the sender takes from the buffer at a time. */
  static final int SEND_BATCH = 256;

  private record Pending(String topic, String key, Object value, Kind kind) {}

  private final String eventsTopic;
  private final BlockingQueue<Pending> queue;
  // One permit per record not yet delivered (queued here or in the producer's own buffer): at most
  // buffer_events records wait in this process for a broker that is away, whatever the producer's
  // buffer.memory would take; beyond that records are dropped and counted.
  private final Semaphore undelivered;
  private final int capacity;
  private final KafkaProducer<String, String> producer;
  private final ScaleMetrics metrics;
  private final Thread sender;
  private volatile boolean closed;

  /** Experiment events go to {@code eventsTopic}; other records name their topic. */
  public KafkaRecordPublisher(KafkaConfig config, String eventsTopic, ScaleMetrics metrics) {
    this.eventsTopic = eventsTopic;
    this.metrics = metrics;
    this.queue = new ArrayBlockingQueue<>(config.bufferEvents());
    this.capacity = config.bufferEvents();
    this.undelivered = new Semaphore(capacity);
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.bootstrap(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                // larger batches: fewer requests for the broker and this process to handle
                ProducerConfig.LINGER_MS_CONFIG,
                20,
                ProducerConfig.BATCH_SIZE_CONFIG,
                64 * 1024,
                // the sender thread may wait this long for a broker; inference never does
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                10_000,
                ProducerConfig.CLIENT_ID_CONFIG,
                "distill-records"),
            new StringSerializer(),
            new StringSerializer());
    this.sender = new Thread(this::run, "distill-kafka-publisher");
    sender.setDaemon(true);
    sender.start();
  }

  @Override
  public boolean publish(ExperimentEvent event) {
    return offer(new Pending(eventsTopic, event.key(), event, Kind.EVENT));
  }

  /** Buffers a record for {@code topic}; false (counted) when the buffer is full or closed. */
  public boolean publish(String topic, String key, String value, Kind kind) {
    return offer(new Pending(topic, key, value, kind));
  }

  private boolean offer(Pending p) {
    Kind kind = p.kind();
    if (closed || !undelivered.tryAcquire()) {
      metrics.record(kind.label(), "dropped");
      return false;
    }
    if (!queue.offer(p)) {
      undelivered.release();
      metrics.record(kind.label(), "dropped");
      return false;
    }
    return true;
  }

  private void run() {
    java.util.List<Pending> batch = new java.util.ArrayList<>(SEND_BATCH);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, SEND_BATCH - 1); // one wake-up and lock round per batch
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
      for (Pending p : batch) {
        send(p);
      }
      batch.clear();
    }
  }

  private void send(Pending p) {
    String kind = p.kind().label();
    try {
      producer.send(
          new ProducerRecord<>(
              p.topic(),
              p.key(),
              p.value() instanceof ExperimentEvent e ? e.encode() : (String) p.value()),
          (meta, ex) -> {
            undelivered.release();
            if (ex == null) {
              metrics.record(kind, "published");
            } else {
              metrics.record(kind, "failed");
              LOG.log(System.Logger.Level.DEBUG, "record not delivered: {0}", ex.getMessage());
            }
          });
    } catch (RuntimeException ex) {
      // e.g. the broker is away longer than max.block.ms: this record is lost, later ones retry
      undelivered.release();
      metrics.record(kind, "failed");
      LOG.log(System.Logger.Level.WARNING, "cannot publish to Kafka: {0}", ex.getMessage());
    }
  }

  /** Records not yet delivered: waiting in the buffer or in the producer for the broker's ack. */
  public int buffered() {
    return capacity - undelivered.availablePermits();
  }

  /** Stops taking records without flushing (a crash, for tests): the producer is closed at once. */
  void abort() {
    closed = true;
    queue.clear();
    producer.close(Duration.ZERO);
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
