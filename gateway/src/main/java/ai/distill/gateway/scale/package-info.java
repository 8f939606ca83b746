/**
 * Scale-out through Apache Kafka (off unless {@code "kafka"} is configured): every instance
 * publishes its experiment events ({@link ai.distill.gateway.scale.ExperimentEvent}: responses
 * served, clicks joined) keyed by user to {@code <prefix>.experiment-events} through {@link
 * ai.distill.gateway.scale.KafkaEventPublisher} (idempotent, {@code acks=all}, bounded buffer:
 * dropped and counted when full, inference never waits), and folds the whole topic ({@link
 * ai.distill.gateway.scale.KafkaEventFolder}) into the same counts ({@link
 * ai.distill.gateway.scale.EventFold}, idempotent by event id) served by {@link
 * ai.distill.gateway.scale.ScaleRoutes} at {@code GET /v1/scale/experiments/{name}}; the lag is
 * {@code distill_kafka_consumer_lag_records}.
 */
package ai.distill.gateway.scale;
