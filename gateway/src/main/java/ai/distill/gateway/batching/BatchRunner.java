package ai.distill.gateway.batching;

import java.util.List;

/**
 * Runs one merged batch; called by {@link DynamicBatcher} on a worker thread, never on an event
 * loop. Implementations must be safe to call from several worker threads at once.
 *
 * @param <I> one queued request
 * @param <O> that request's result
 */
@FunctionalInterface
public interface BatchRunner<I, O> {

  /**
   * Runs {@code batch} and returns one result per request, in the same order. Throwing fails every
   * request of the batch with that exception.
   */
  List<O> run(List<I> batch) throws Exception;
}
