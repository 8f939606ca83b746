package ai.distill.loadtest.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScheduleTest {

  @Test
  void fixed_rate_sends_rate_times_duration_requests_at_exact_spacing() {
    Schedule s = Schedule.fixedRate(1000, Duration.ofSeconds(3));
    assertEquals(3000, s.size());
    for (int i = 0; i < s.size(); i++) {
      assertEquals(i * 1_000_000L, s.offsetNanos(i));
    }
    assertEquals(3_000_000_000L, s.durationNanos());
  }

  @Test
  void fixed_rate_with_a_non_integer_interval_does_not_drift() {
    Schedule s = Schedule.fixedRate(3, Duration.ofSeconds(10));
    assertEquals(30, s.size());
    assertEquals(333_333_333L, s.offsetNanos(1));
    assertEquals(3_333_333_333L, s.offsetNanos(10));
    assertEquals(9_666_666_666L, s.offsetNanos(29));
  }

  @Test
  void fixed_rate_count_floors_a_fractional_number_of_requests() {
    assertEquals(2, Schedule.fixedRate(5, Duration.ofMillis(500)).size());
    assertEquals(1, Schedule.fixedRate(1, Duration.ofMillis(1500)).size());
  }

  @Test
  void poisson_schedule_is_reproducible_from_its_seed_and_has_the_mean_rate() {
    Schedule a = Schedule.poisson(2000, Duration.ofSeconds(10), 42);
    Schedule b = Schedule.poisson(2000, Duration.ofSeconds(10), 42);
    Schedule c = Schedule.poisson(2000, Duration.ofSeconds(10), 43);
    assertArrayEquals(offsets(a), offsets(b));
    assertTrue(
        a.size() != c.size() || a.offsetNanos(5) != c.offsetNanos(5),
        "different seeds give different schedules");
    // 20,000 expected arrivals; sd ~141, so 5% is > 7 sd.
    assertTrue(Math.abs(a.size() - 20_000) < 1_000, "count " + a.size());
    for (int i = 1; i < a.size(); i++) {
      assertTrue(a.offsetNanos(i) >= a.offsetNanos(i - 1), "monotone");
    }
    assertTrue(a.offsetNanos(a.size() - 1) < 10_000_000_000L);
  }

  @Test
  void then_shifts_the_second_schedule_by_the_first_duration() {
    Schedule s =
        Schedule.fixedRate(10, Duration.ofSeconds(1))
            .then(Schedule.fixedRate(20, Duration.ofSeconds(1)));
    assertEquals(30, s.size());
    assertEquals(900_000_000L, s.offsetNanos(9));
    assertEquals(1_000_000_000L, s.offsetNanos(10));
    assertEquals(1_050_000_000L, s.offsetNanos(11));
    assertEquals(2_000_000_000L, s.durationNanos());
  }

  @Test
  void rejects_a_non_positive_rate_with_the_expected_range() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Schedule.fixedRate(0, Duration.ofSeconds(1)));
    assertEquals("rate : 0.0 (expected: > 0 requests per second)", e.getMessage());
  }

  private static long[] offsets(Schedule s) {
    long[] o = new long[s.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = s.offsetNanos(i);
    }
    return o;
  }
}
