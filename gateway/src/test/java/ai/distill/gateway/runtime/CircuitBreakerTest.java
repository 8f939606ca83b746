package ai.distill.gateway.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.runtime.CircuitBreaker.State;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  private static final long OPEN = 1_000;

  @Test
  void opens_after_consecutive_failures_only() {
    CircuitBreaker b = new CircuitBreaker(3, OPEN);
    b.failed(0);
    b.failed(0);
    b.succeeded(); // resets the streak
    b.failed(0);
    b.failed(0);
    assertEquals(State.CLOSED, b.state());
    b.failed(10);
    assertEquals(State.OPEN, b.state());
    assertFalse(b.tryAcquire(10 + OPEN - 1));
    assertEquals(1, b.remainingOpenNanos(10 + OPEN - 1));
  }

  @Test
  void half_open_lets_one_probe_through_and_closes_on_its_success() {
    CircuitBreaker b = open();
    assertTrue(b.tryAcquire(OPEN));
    assertEquals(State.HALF_OPEN, b.state());
    assertFalse(b.tryAcquire(OPEN), "a second request while the probe runs");
    b.succeeded();
    assertEquals(State.CLOSED, b.state());
    assertTrue(b.tryAcquire(OPEN));
  }

  @Test
  void a_failed_probe_opens_the_circuit_again_for_a_full_period() {
    CircuitBreaker b = open();
    assertTrue(b.tryAcquire(OPEN));
    b.failed(OPEN + 5);
    assertEquals(State.OPEN, b.state());
    assertFalse(b.tryAcquire(2 * OPEN));
    assertTrue(b.tryAcquire(2 * OPEN + 5));
  }

  @Test
  void a_neutral_probe_frees_the_turn_for_another_probe() {
    CircuitBreaker b = open();
    assertTrue(b.tryAcquire(OPEN));
    b.neutral();
    assertEquals(State.HALF_OPEN, b.state());
    assertTrue(b.tryAcquire(OPEN));
  }

  @Test
  void zero_failures_never_opens() {
    CircuitBreaker b = new CircuitBreaker(0, OPEN);
    for (int i = 0; i < 100; i++) {
      b.failed(i);
    }
    assertEquals(State.CLOSED, b.state());
  }

  private static CircuitBreaker open() {
    CircuitBreaker b = new CircuitBreaker(1, OPEN);
    b.failed(0);
    assertEquals(State.OPEN, b.state());
    return b;
  }
}
