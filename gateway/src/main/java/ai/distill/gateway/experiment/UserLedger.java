package ai.distill.gateway.experiment;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Per-user impressions and clicks of one variant, plus the running user-level sums the delta method
 * needs (Σn, Σc, Σn², Σc², Σnc). Users are keyed by a 64-bit hash in an open-addressing table that
 * grows up to {@code maxUsers}; users beyond it are served but not tracked (counted in {@link
 * #untracked()}). Not thread-safe: the owning {@link Experiment} serializes access.
 */
final class UserLedger {

  private final int maxUsers;
  private long[] keys;
  private long[] values; // impressions in the high 32 bits, clicks in the low 32 bits
  private int size;
  private long impressions;
  private long clicks;
  private double sumN2;
  private double sumC2;
  private double sumNC;
  private long untracked;

  UserLedger(int maxUsers) {
    if (maxUsers <= 0) {
      throw new IllegalArgumentException("maxUsers : " + maxUsers + " (expected: > 0)");
    }
    this.maxUsers = maxUsers;
    this.keys = new long[64];
    this.values = new long[64];
  }

  /**
   * Adds {@code rows} impressions for a user. Returns true when this is the user's first exposure
   * to the variant.
   */
  boolean impression(long user, int rows) {
    int slot = find(user);
    boolean fresh = keys[slot] == 0;
    if (fresh) {
      if (size >= maxUsers) {
        untracked++;
        return false;
      }
      keys[slot] = nonZero(user);
      size++;
    }
    long n = values[slot] >>> 32;
    long c = values[slot] & 0xffffffffL;
    sumN2 += 2.0 * n * rows + (double) rows * rows;
    sumNC += (double) rows * c;
    impressions += rows;
    values[slot] = ((n + rows) << 32) | c;
    if (fresh && size * 2 > keys.length) {
      grow();
    }
    return fresh;
  }

  /**
   * Adds clicks for a user already exposed; returns false (and ignores them) for an unknown user.
   */
  boolean click(long user, int k) {
    int slot = find(user);
    if (keys[slot] == 0) {
      return false;
    }
    long n = values[slot] >>> 32;
    long c = values[slot] & 0xffffffffL;
    sumC2 += 2.0 * c * k + (double) k * k;
    sumNC += (double) k * n;
    clicks += k;
    values[slot] = (n << 32) | (c + k);
    return true;
  }

  /** True when the user is tracked (was exposed and fit under {@code maxUsers}). */
  boolean contains(long user) {
    return keys[find(user)] != 0;
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

  void writeTo(DataOutputStream out) throws IOException {
    out.writeInt(size);
    out.writeLong(untracked);
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != 0) {
        out.writeLong(keys[i]);
        out.writeLong(values[i]);
      }
    }
  }

  void readFrom(DataInputStream in) throws IOException {
    int n = in.readInt();
    untracked += in.readLong();
    for (int i = 0; i < n; i++) {
      long key = in.readLong();
      long value = in.readLong();
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
  }

  private int find(long user) {
    long key = nonZero(user);
    int mask = keys.length - 1;
    int i = (int) (key ^ (key >>> 32)) & mask;
    while (keys[i] != 0 && keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  private void grow() {
    long[] oldKeys = keys;
    long[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new long[oldValues.length * 2];
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != 0) {
        int slot = find(oldKeys[i]);
        keys[slot] = oldKeys[i];
        values[slot] = oldValues[i];
      }
    }
  }

  private static long nonZero(long key) {
    return key == 0 ? 1 : key;
  }
}
