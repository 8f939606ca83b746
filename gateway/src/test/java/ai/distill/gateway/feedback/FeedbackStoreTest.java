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
        FeedbackOutcome.Joined j = assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r1", new int[] {0, 1}));
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
        FeedbackOutcome.Expired e = assertInstanceOf(FeedbackOutcome.Expired.class, store.join("r1", new int[] {1}));
        assertEquals(1, e.lateByMillis());
        now.addAndGet(60_000);
        assertEquals(0, store.size());
        assertInstanceOf(FeedbackOutcome.Unknown.class, store.join("r1", new int[] {1}));
    }

    @Test
    void wrong_number_of_clicks_names_expected_and_received() {
        store.remember(impression("r1", 3));
        FeedbackOutcome.WrongCount w = assertInstanceOf(FeedbackOutcome.WrongCount.class,
                store.join("r1", new int[] {1}));
        assertEquals(3, w.impression().rows());
        assertEquals(1, w.received());
        assertInstanceOf(FeedbackOutcome.Joined.class, store.join("r1", new int[] {1, 0, 0}),
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
}
