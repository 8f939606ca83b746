package ai.distill.gateway.experiment;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Per-user impressions and clicks of one variant, plus the running user-level sums the delta method
 * needs (Σn, Σc, Σn², Σc², Σnc). Users are keyed by a 64-bit hash in {@value #SEGMENTS}
 * open-addressing segments (chosen by the hash) that grow, each on its own, up to {@code maxUsers}
 * in total; users beyond it are served but not tracked (counted in {@link #untracked()}).
 *
 * <p>Segments keep every step bounded: growing rehashes one segment (about {@code maxUsers / 64}
 * entries at most, see {@link #largestRehash()}), never the whole ledger, and a snapshot copies one
 * segment at a time ({@link #copySegment}), so whoever persists the ledger holds the owner's lock
 * for one segment's copy, not for the whole ledger or its disk write. Not thread-safe: the owning
 * {@link Experiment} serializes access.
 */
final class UserLedger {

  /** Segments per ledger (a power of two). */
  static final int SEGMENTS = 64;

  private static final int SEGMENT_BITS = Integer.numberOfTrailingZeros(SEGMENTS);
  private static final int INITIAL_CAPACITY = 16;

  /** One open-addressing table. */
  private static final class Segment {
    long[] keys = new long[INITIAL_CAPACITY];
    long[] values = new long[INITIAL_CAPACITY]; // impressions high 32 bits, clicks low 32 bits
    int size;
  }

  private final int maxUsers;
  private final Segment[] segments = new Segment[SEGMENTS];
  private int size;
  private long impressions;
  private long clicks;
  private double sumN2;
  private double sumC2;
  private double sumNC;
  private long untracked;
  private int largestRehash;

  UserLedger(int maxUsers) {
    if (maxUsers <= 0) {
      throw new IllegalArgumentException("maxUsers : " + maxUsers + " (expected: > 0)");
    }
    this.maxUsers = maxUsers;
    for (int i = 0; i < SEGMENTS; i++) {
      segments[i] = new Segment();
    }
  }

  /**
   * Adds {@code rows} impressions for a user. Returns true when this is the user's first exposure
   * to the variant.
   */
  boolean impression(long user, int rows) {
    long key = nonZero(user);
    Segment s = segments[segmentOf(key)];
    int slot = find(s, key);
    boolean fresh = s.keys[slot] == 0;
    if (fresh) {
      if (size >= maxUsers) {
        untracked++;
        return false;
      }
      s.keys[slot] = key;
      s.size++;
      size++;
    }
    long n = s.values[slot] >>> 32;
    long c = s.values[slot] & 0xffffffffL;
    sumN2 += 2.0 * n * rows + (double) rows * rows;
    sumNC += (double) rows * c;
    impressions += rows;
    s.values[slot] = ((n + rows) << 32) | c;
    if (fresh && s.size * 2 > s.keys.length) {
      grow(s);
    }
    return fresh;
  }

  /**
   * Adds clicks for a user already exposed; returns false (and ignores them) for an unknown user.
   */
  boolean click(long user, int k) {
    long key = nonZero(user);
    Segment s = segments[segmentOf(key)];
    int slot = find(s, key);
    if (s.keys[slot] == 0) {
      return false;
    }
    long n = s.values[slot] >>> 32;
    long c = s.values[slot] & 0xffffffffL;
    sumC2 += 2.0 * c * k + (double) k * k;
    sumNC += (double) k * n;
    clicks += k;
    s.values[slot] = (n << 32) | (c + k);
    return true;
  }

  /** True when the user is tracked (was exposed and fit under {@code maxUsers}). */
  boolean contains(long user) {
    long key = nonZero(user);
    Segment s = segments[segmentOf(key)];
    return s.keys[find(s, key)] != 0;
  }

  long users() {
    return size;
  }

  long impressions() {
    return impressions;
  }

  long clicks() {
    return clicks;
  }

  long untracked() {
    return untracked;
  }

  /** The most entries one growth step has rehashed so far (growth is per segment). */
  int largestRehash() {
    return largestRehash;
  }

  /** Clicks per impression, 0 without impressions. */
  double ratio() {
    return impressions == 0 ? 0 : (double) clicks / impressions;
  }

  /**
   * Delta-method variance of the ratio Σc/Σn with users as the unit: (Var(c) − 2R·Cov(c, n) +
   * R²·Var(n)) / (users · mean(n)²). NaN with fewer than two users.
   */
  double ratioVariance() {
    long u = size;
    if (u < 2 || impressions == 0) {
      return Double.NaN;
    }
    double meanN = (double) impressions / u;
    double meanC = (double) clicks / u;
    double varN = (sumN2 - u * meanN * meanN) / (u - 1);
    double varC = (sumC2 - u * meanC * meanC) / (u - 1);
    double cov = (sumNC - u * meanN * meanC) / (u - 1);
    double r = meanC / meanN;
    double v = (varC - 2 * r * cov + r * r * varN) / (u * meanN * meanN);
    return Math.max(v, 0);
  }

  /**
   * The users of one segment as {@code key, value} pairs (a compact copy, O(segment)). Call under
   * the owner's lock; write the copy out after releasing it.
   */
  long[] copySegment(int segment) {
    Segment s = segments[segment];
    long[] out = new long[s.size * 2];
    int j = 0;
    for (int i = 0; i < s.keys.length; i++) {
      if (s.keys[i] != 0) {
        out[j++] = s.keys[i];
        out[j++] = s.values[i];
      }
    }
    return out;
  }

  /** Adds users read back from disk ({@link #copySegment} pairs); replays their counts. */
  void restore(long key, long value) {
    int rows = (int) (value >>> 32);
    int k = (int) (value & 0xffffffffL);
    if (rows > 0) {
      impression(key, rows);
    } else if (size < maxUsers) {
      impression(key, 0);
    }
    if (k > 0) {
      click(key, k);
    }
  }

  /** Users counted but not tracked, read back from disk. */
  void restoreUntracked(long n) {
    untracked += n;
  }

  /** Reads the first ledger format: {@code size, untracked, size × (key, value)}. */
  void readLegacy(DataInputStream in) throws IOException {
    int n = in.readInt();
    untracked += in.readLong();
    for (int i = 0; i < n; i++) {
      long key = in.readLong();
      restore(key, in.readLong());
    }
  }

  private static int segmentOf(long key) {
    return (int) ((key * 0x9E3779B97F4A7C15L) >>> (64 - SEGMENT_BITS));
  }

  private static int find(Segment s, long key) {
    int mask = s.keys.length - 1;
    int i = (int) (key ^ (key >>> 32)) & mask;
    while (s.keys[i] != 0 && s.keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  private void grow(Segment s) {
    long[] oldKeys = s.keys;
    long[] oldValues = s.values;
    s.keys = new long[oldKeys.length * 2];
    s.values = new long[oldValues.length * 2];
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != 0) {
        int slot = find(s, oldKeys[i]);
        s.keys[slot] = oldKeys[i];
        s.values[slot] = oldValues[i];
      }
    }
    largestRehash = Math.max(largestRehash, s.size);
  }

  private static long nonZero(long key) {
    return key == 0 ? 1 : key;
  }
}
