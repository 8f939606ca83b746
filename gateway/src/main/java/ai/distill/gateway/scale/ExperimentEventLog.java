package ai.distill.gateway.scale;

/**
 * Where an instance sends its experiment events so that every instance can fold them ({@link
 * EventFold}). {@link KafkaEventPublisher} is the Kafka implementation. {@link #publish} never
 * blocks and never throws: an event that cannot be buffered is dropped and counted.
 */
public interface ExperimentEventLog extends AutoCloseable {

  /** Buffers the event for delivery; returns false when it was dropped (buffer full, closed). */
  boolean publish(ExperimentEvent event);

  /** Delivers what is buffered (bounded wait) and releases the connection. */
  @Override
  void close();
}
