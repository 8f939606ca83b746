package ai.distill.gateway.feedback;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Remembers served impressions for the length of their attribution window and joins click feedback
 * to them. Memory is bounded: at most {@code maxEntries} impressions (the oldest is forgotten
 * first, counted as evicted). An impression stays recognizable as expired for one more window after
 * it closes, so late feedback gets "expired" rather than "unknown". Thread-safe (short synchronized
 * sections).
 *
 * <pre>{@code
 * FeedbackStore store = new FeedbackStore(1_000_000, System::currentTimeMillis);
 * store.remember(new Impression("r1", "ctr-ab", 1, "ctr-int8", "u42", 3, now + 600_000));
 * FeedbackOutcome o = store.join("r1", new int[] {0, 1, 0});
 * }</pre>
 */
public final class FeedbackStore {

  private static final class Entry {
    final Impression impression;
    final long graceMillis;
    final int servings;
    boolean joined;

    Entry(Impression impression, long graceMillis, int servings) {
      this.impression = impression;
      this.graceMillis = graceMillis;
      this.servings = servings;
    }
  }

  private final int maxEntries;
  private final LongSupplier clock;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
  private long evicted;

  public FeedbackStore(int maxEntries, LongSupplier clockMillis) {
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("maxEntries : " + maxEntries + " (expected: > 0)");
    }
    this.maxEntries = maxEntries;
    this.clock = clockMillis;
  }

  /**
   * Remembers an impression. An id is the client's: when it is reused while an earlier impression
   * with that id is still live and has no feedback yet, and the two are not the same request served
   * again (same experiment, model, user and rows: a retry, which simply replaces the earlier one),
   * the id becomes ambiguous: feedback for it is refused ({@link FeedbackOutcome.Ambiguous}) rather
   * than credited to whichever response came last.
   *
   * @return true when this impression collided with a different live one
   */
  public boolean remember(Impression impression) {
    long now = clock.getAsLong();
    long grace = Math.max(0, impression.expiresAtMillis() - now);
    synchronized (this) {
      purge(now);
      Entry previous = entries.remove(impression.id());
      boolean collided =
          previous != null
              && !previous.joined
              && now <= previous.impression.expiresAtMillis()
              && !sameRequest(previous.impression, impression);
      int servings = collided ? previous.servings + 1 : 1;
      if (previous != null
          && !collided
          && previous.servings > 1
          && now <= previous.impression.expiresAtMillis()) {
        servings = previous.servings; // a retry does not make an ambiguous id unambiguous
      }
      entries.put(impression.id(), new Entry(impression, grace, servings));
      while (entries.size() > maxEntries) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        it.next();
        it.remove();
        evicted++;
      }
      return collided;
    }
  }

  private static boolean sameRequest(Impression a, Impression b) {
    return java.util.Objects.equals(a.experiment(), b.experiment())
        && a.model().equals(b.model())
        && java.util.Objects.equals(a.userId(), b.userId())
        && a.rows() == b.rows();
  }

  /** Joins clicks (one per scored row) to the impression with this id. */
  public FeedbackOutcome join(String id, int[] clicks) {
    long now = clock.getAsLong();
    synchronized (this) {
      Entry e = entries.get(id);
      if (e == null) {
        return new FeedbackOutcome.Unknown(id);
      }
      Impression i = e.impression;
      if (e.servings > 1 && now <= i.expiresAtMillis()) {
        return new FeedbackOutcome.Ambiguous(i, e.servings);
      }
      if (now > i.expiresAtMillis()) {
        return new FeedbackOutcome.Expired(i, now - i.expiresAtMillis());
      }
      if (clicks.length != i.rows()) {
        return new FeedbackOutcome.WrongCount(i, clicks.length);
      }
      if (e.joined) {
        return new FeedbackOutcome.Duplicate(i);
      }
      e.joined = true;
      return new FeedbackOutcome.Joined(i, clicks.clone());
    }
  }

  /** Impressions currently remembered (including expired ones still recognizable). */
  public synchronized int size() {
    purge(clock.getAsLong());
    return entries.size();
  }

  /** Impressions forgotten early because the store was full. */
  public synchronized long evicted() {
    return evicted;
  }

  /**
   * Drops entries whose window closed more than one window ago; insertion order approximates expiry
   * order.
   */
  private void purge(long now) {
    Iterator<Entry> it = entries.values().iterator();
    while (it.hasNext()) {
      Entry e = it.next();
      if (now <= e.impression.expiresAtMillis() + e.graceMillis) {
        break;
      }
      it.remove();
    }
  }
}
