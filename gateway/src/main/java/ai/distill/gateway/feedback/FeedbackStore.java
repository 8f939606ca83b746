package ai.distill.gateway.feedback;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Remembers served impressions for the length of their attribution window and joins click feedback
 * to them. Memory is bounded: at most {@code maxEntries} impressions (the oldest is forgotten
 * first, counted as evicted). An impression stays recognizable as expired for one more window after
 * it closes, so late feedback gets "expired" rather than "unknown". Thread-safe (short synchronized
 * sections). {@link #writeSnapshot} and {@link #readSnapshot} carry the impressions across a
 * restart (the experiment engine persists them on its snapshot schedule).
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
    volatile boolean joined;

    Entry(Impression impression, long graceMillis, int servings) {
      this.impression = impression;
      this.graceMillis = graceMillis;
      this.servings = servings;
    }
  }

  private static final int SNAPSHOT_FORMAT = 1;

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

  /**
   * Writes the remembered impressions (with their deadlines, servings and joined flags), oldest
   * first. Holds this store's lock only to copy references (O(entries), no I/O); the write happens
   * after, so the snapshot may miss requests served while it is written.
   */
  public void writeSnapshot(DataOutputStream out) throws IOException {
    Entry[] copy;
    synchronized (this) {
      purge(clock.getAsLong());
      copy = entries.values().toArray(new Entry[0]);
    }
    out.writeInt(SNAPSHOT_FORMAT);
    out.writeInt(copy.length);
    for (Entry e : copy) {
      Impression i = e.impression;
      writeString(out, i.id());
      writeString(out, i.experiment());
      out.writeInt(i.variant());
      writeString(out, i.model());
      writeString(out, i.userId());
      out.writeInt(i.rows());
      out.writeLong(i.expiresAtMillis());
      out.writeLong(e.graceMillis);
      out.writeInt(e.servings);
      out.writeBoolean(e.joined);
    }
  }

  /**
   * Restores impressions written by {@link #writeSnapshot}, dropping those no longer recognizable
   * (past their window and its grace) and never replacing one remembered since; call it before
   * serving. Returns how many were restored.
   */
  public int readSnapshot(DataInputStream in) throws IOException {
    int format = in.readInt();
    if (format != SNAPSHOT_FORMAT) {
      throw new IOException(
          "impressions snapshot format " + format + " (expected: " + SNAPSHOT_FORMAT + ")");
    }
    int n = in.readInt();
    long now = clock.getAsLong();
    List<Entry> restored = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      Impression i =
          new Impression(
              readString(in),
              readString(in),
              in.readInt(),
              readString(in),
              readString(in),
              in.readInt(),
              in.readLong());
      long grace = in.readLong();
      int servings = in.readInt();
      boolean joined = in.readBoolean();
      if (now <= i.expiresAtMillis() + grace) {
        Entry e = new Entry(i, grace, servings);
        e.joined = joined;
        restored.add(e);
      }
    }
    int count = 0;
    synchronized (this) {
      for (Entry e : restored) {
        if (entries.putIfAbsent(e.impression.id(), e) == null) {
          count++;
        }
      }
      while (entries.size() > maxEntries) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        it.next();
        it.remove();
        evicted++;
      }
    }
    return count;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    if (n > 1 << 20) {
      throw new IOException("impressions snapshot: a string of " + n + " bytes (corrupt file?)");
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
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
