package ai.distill.gateway.feedback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FeedbackStoreTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final FeedbackStore store = new FeedbackStore(3, now::get);

  private Impression impression(String id, int rows) {
    return new Impression(id, "ctr-ab", 1, "ctr-int8", "u42", rows, now.get() + 60_000);
  }

  @Test
  void joins_feedback_once_and_is_idempotent_afterwards() {
    store.remember(impression("r1", 2));
    FeedbackOutcome.Joined j =
        assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r1", new int[] {0, 1}));
    assertEquals("u42", j.impression().userId());
    assertInstanceOf(FeedbackOutcome.Duplicate.class, store.join("r1", new int[] {0, 1}));
    assertInstanceOf(FeedbackOutcome.Duplicate.class, store.join("r1", new int[] {1, 1}));
  }

  @Test
  void unknown_ids_are_unknown() {
    assertEquals("unknown", store.join("nope", new int[] {1}).label());
  }

  @Test
  void late_feedback_is_expired_then_forgotten() {
    store.remember(impression("r1", 1));
    now.addAndGet(60_001);
    FeedbackOutcome.Expired e =
        assertInstanceOf(FeedbackOutcome.Expired.class, store.join("r1", new int[] {1}));
    assertEquals(1, e.lateByMillis());
    now.addAndGet(60_000);
    assertEquals(0, store.size());
    assertInstanceOf(FeedbackOutcome.Unknown.class, store.join("r1", new int[] {1}));
  }

  @Test
  void wrong_number_of_clicks_names_expected_and_received() {
    store.remember(impression("r1", 3));
    FeedbackOutcome.WrongCount w =
        assertInstanceOf(FeedbackOutcome.WrongCount.class, store.join("r1", new int[] {1}));
    assertEquals(3, w.impression().rows());
    assertEquals(1, w.received());
    assertInstanceOf(
        FeedbackOutcome.Joined.class,
        store.join("r1", new int[] {1, 0, 0}),
        "a rejected attempt does not consume the impression");
  }

  @Test
  void memory_is_bounded_by_evicting_the_oldest() {
    for (int i = 0; i < 5; i++) {
      store.remember(impression("r" + i, 1));
    }
    assertEquals(3, store.size());
    assertEquals(2, store.evicted());
    assertInstanceOf(FeedbackOutcome.Unknown.class, store.join("r0", new int[] {1}));
    assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r4", new int[] {1}));
  }

  @Test
  void a_client_id_reused_by_another_live_request_is_ambiguous_not_overwritten() {
    assertEquals(
        false,
        store.remember(
            new Impression("dup-1", "ctr-ab", 1, "ctr-int8", "alice", 2, now.get() + 60_000)));
    assertEquals(
        true,
        store.remember(new Impression("dup-1", "ctr-ab", 0, "ctr", "bob", 2, now.get() + 60_000)));
    FeedbackOutcome.Ambiguous a =
        assertInstanceOf(FeedbackOutcome.Ambiguous.class, store.join("dup-1", new int[] {1, 0}));
    assertEquals(2, a.servings());
    // A retry by one of them does not make the id attributable again.
    assertEquals(
        false,
        store.remember(new Impression("dup-1", "ctr-ab", 0, "ctr", "bob", 2, now.get() + 60_000)));
    assertInstanceOf(FeedbackOutcome.Ambiguous.class, store.join("dup-1", new int[] {1, 0}));
  }

  @Test
  void a_retry_of_the_same_request_or_reuse_after_feedback_is_not_a_collision() {
    assertEquals(false, store.remember(impression("r1", 2)));
    assertEquals(false, store.remember(impression("r1", 2)));
    assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r1", new int[] {1, 0}));
    assertEquals(
        false,
        store.remember(new Impression("r1", "ctr-ab", 0, "ctr", "bob", 1, now.get() + 60_000)));
    assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r1", new int[] {1}));
  }
}
