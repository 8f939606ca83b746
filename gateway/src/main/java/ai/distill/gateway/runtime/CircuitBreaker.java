package ai.distill.gateway.runtime;

/**
 * One model's circuit breaker: closed until {@code failures} consecutive model errors, then open
 * (every request refused) for {@code openNanos}, then half-open: one probe request is let through;
 * its success closes the circuit, its failure opens it again. Outcomes that say nothing about the
 * model (bad input, shed load) neither count nor end a probe's turn without freeing it. Time comes
 * in as an argument, so tests drive it without sleeping. Thread-safe (short synchronized sections).
 */
final class CircuitBreaker {

  /** The state and its {@code distill_model_circuit_state} value. */
  enum State {
    CLOSED(0),
    HALF_OPEN(1),
    OPEN(2);

    final int gauge;

    State(int gauge) {
      this.gauge = gauge;
    }
  }

  private final int failures;
  private final long openNanos;
  private State state = State.CLOSED;
  private int consecutive;
  private long openedAt;
  private boolean probing;

  /**
   * @param failures consecutive model errors that open the circuit (0: never opens)
   */
  CircuitBreaker(int failures, long openNanos) {
    this.failures = failures;
    this.openNanos = openNanos;
  }

  /** True when a request may run now; in half-open state, true for one probe at a time. */
  synchronized boolean tryAcquire(long now) {
    switch (state) {
      case CLOSED:
        return true;
      case OPEN:
        if (now - openedAt < openNanos) {
          return false;
        }
        state = State.HALF_OPEN;
        probing = true;
        return true;
      default:
        if (probing) {
          return false;
        }
        probing = true;
        return true;
    }
  }

  /** Nanoseconds until an open circuit lets a probe through (0 when not open). */
  synchronized long remainingOpenNanos(long now) {
    return state == State.OPEN ? Math.max(0, openNanos - (now - openedAt)) : 0;
  }

  /** The model answered. */
  synchronized void succeeded() {
    consecutive = 0;
    probing = false;
    state = State.CLOSED;
  }

  /** The model failed (a run error, a timeout, an output that is not a valid score). */
  synchronized void failed(long now) {
    consecutive++;
    probing = false;
    if (state == State.HALF_OPEN || (failures > 0 && consecutive >= failures)) {
      state = State.OPEN;
      openedAt = now;
    }
  }

  /** The request ended in a way that says nothing about the model: frees a probe's turn. */
  synchronized void neutral() {
    probing = false;
  }

  synchronized State state() {
    return state;
  }
}
