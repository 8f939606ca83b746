package ai.distill.gateway.experiment;

import ai.distill.gateway.batching.BatcherClosedException;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelUnavailableException;

/**
 * How a request routed by an experiment ended, as the guardrails count it: only {@link
 * #MODEL_ERROR} counts against the model; {@link #SHED} (429: the queue was full, or the version
 * was draining) is counted apart for every arm and never judged; {@link #CLIENT_ERROR} (bad input)
 * is the caller's fault and counts for nothing.
 */
public enum RequestOutcome {
  OK,
  MODEL_ERROR,
  SHED,
  CLIENT_ERROR;

  /** The outcome of a request that failed with {@code failure} (null: it succeeded). */
  public static RequestOutcome of(Throwable failure) {
    if (failure == null) {
      return OK;
    }
    if (failure instanceof QueueFullException
        || failure instanceof BatcherClosedException
        || failure instanceof ModelUnavailableException) {
      return SHED;
    }
    if (failure instanceof BadInputException || failure instanceof IllegalArgumentException) {
      return CLIENT_ERROR;
    }
    // ModelRunException, timeouts, a variant that is not loaded, anything unexpected from the run
    return MODEL_ERROR;
  }

  /** The {@code outcome} label of the requests metric. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
