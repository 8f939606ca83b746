package ai.distill.gateway.batching;

/** A request reached a batcher that is draining or closed (HTTP 503). */
public final class BatcherClosedException extends RuntimeException {

  public BatcherClosedException(String model) {
    super(
        model
            + " is shutting down and accepts no new requests; retry on another version or instance");
  }
}
