/**
 * Scale-out through Apache Kafka (off unless {@code "kafka"} is configured), installed by {@link
 * ai.distill.gateway.scale.ScaleRoutes}:
 *
 * <ul>
 *   <li>{@link ai.distill.gateway.scale.KafkaRecordPublisher}: one idempotent {@code acks=all}
 *       producer behind a bounded buffer (full: dropped and counted, inference never waits) for
 *       every record this instance sends: {@link ai.distill.gateway.scale.ExperimentEvent}s keyed
 *       by user to {@code <prefix>.experiment-events}, decision states keyed by experiment to the
 *       compacted {@code <prefix>.experiment-decisions}, captured rows to {@code
 *       <prefix>.captures}.
 *   <li>{@link ai.distill.gateway.scale.KafkaTopicReader}: reads the events, decisions and
 *       definitions topics from their beginning on every instance (lag: {@code
 *       distill_kafka_consumer_lag_records}).
 *   <li>{@link ai.distill.gateway.scale.SharedDefinitions}: experiments created through the admin
 *       API and canary generations, from any instance, go to the compacted one-partition {@code
 *       <prefix>.experiment-definitions} (keyed by experiment, written with the broker's ack) and
 *       every instance, the one that made them included, installs them in its order; an instance
 *       reads it to its end at start, before the other topics.
 *   <li>{@link ai.distill.gateway.scale.SharedExperiments}: folds each event once ({@link
 *       ai.distill.gateway.scale.EventFold}, idempotent by event id) into this instance's
 *       experiments, so all instances hold the same counts; applies every decision state. Events
 *       and decision states of a generation not installed yet wait (bounded) for its definition;
 *       those of a past generation are ignored.
 *   <li>{@link ai.distill.gateway.scale.KafkaDeciderElection}: the instance whose consumer holds
 *       partition 0 of {@code <prefix>.decider-election} in the group {@code <prefix>.deciders}
 *       takes the automatic decisions; Kafka hands the partition over when it leaves or dies.
 *   <li>{@link ai.distill.gateway.scale.KafkaRows}: {@code kafka://[host:port/]topic} rows for jobs
 *       and the CLI's {@code --data}.
 * </ul>
 */
package ai.distill.gateway.scale;
