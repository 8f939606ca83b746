package ai.distill.gateway.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Maps users to variants through 10,000 sticky buckets: {@code bucket =
 * murmur3_x86_32("<experiment>:<salt>:<user>", seed 1) mod 10000} (unsigned).
 *
 * <pre>{@code
 * StickyAssigner a = StickyAssigner.create("ctr-ab", "s1", new double[] {90, 10});
 * int variant = a.variantOf(a.bucket("u42"));
 * a.reweight(new double[] {70, 30});   // every user of variant 1 stays in variant 1
 * }</pre>
 *
 * <p>Each variant owns a list of slot ranges in the order they were given to it. Reweighting takes
 * slots away from the most recently added end of the variants that shrink and appends free slots to
 * the variants that grow, so a variant whose share does not fall keeps every one of its users.
 * Lookups are lock-free (copy-on-write owner table); {@link #reweight} is synchronized.
 */
public final class StickyAssigner {

  public static final int BUCKETS = 10_000;

  private final String experiment;
  private final String salt;
  private final List<List<int[]>> ranges;
  private volatile short[] owner;

  private StickyAssigner(String experiment, String salt, List<List<int[]>> ranges) {
    this.experiment = experiment;
    this.salt = salt;
    this.ranges = ranges;
    this.owner = ownerTable(ranges);
  }

  /** A fresh assignment: variant i gets a contiguous range proportional to {@code weights[i]}. */
  public static StickyAssigner create(String experiment, String salt, double[] weights) {
    List<List<int[]>> ranges = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      ranges.add(new ArrayList<>());
    }
    StickyAssigner assigner = new StickyAssigner(experiment, salt, ranges);
    assigner.reweight(weights);
    return assigner;
  }

  /** Restores a persisted allocation (ranges per variant, in allocation order, end exclusive). */
  public static StickyAssigner restore(
      String experiment, String salt, List<List<int[]>> persisted) {
    List<List<int[]>> ranges = new ArrayList<>();
    for (List<int[]> variant : persisted) {
      List<int[]> copy = new ArrayList<>();
      for (int[] r : variant) {
        if (r.length != 2 || r[0] < 0 || r[1] > BUCKETS || r[0] >= r[1]) {
          throw new IllegalArgumentException(
              "slot range : ["
                  + (r.length > 0 ? r[0] : "")
                  + ", "
                  + (r.length > 1 ? r[1] : "")
                  + ") (expected: 0 <= start < end <= "
                  + BUCKETS
                  + ")");
        }
        copy.add(new int[] {r[0], r[1]});
      }
      ranges.add(copy);
    }
    return new StickyAssigner(experiment, salt, ranges);
  }

  /** The sticky bucket of a user in [0, 10000). */
  public int bucket(String user) {
    int h = Murmur3.hash32(experiment + ":" + salt + ":" + user, 1);
    return (int) (Integer.toUnsignedLong(h) % BUCKETS);
  }

  /** A uniformly random bucket, for requests without a user id. */
  public int randomBucket() {
    return ThreadLocalRandom.current().nextInt(BUCKETS);
  }

  /**
   * The variant owning a bucket, or -1 when no variant has weight (never after a valid reweight).
   */
  public int variantOf(int bucket) {
    return owner[bucket];
  }

  public int variants() {
    return ranges.size();
  }

  /** Number of buckets the variant owns. */
  public int slots(int variant) {
    synchronized (this) {
      int n = 0;
      for (int[] r : ranges.get(variant)) {
        n += r[1] - r[0];
      }
      return n;
    }
  }

  /** A copy of the variant's ranges in allocation order (end exclusive), for persistence. */
  public synchronized List<int[]> ranges(int variant) {
    List<int[]> copy = new ArrayList<>();
    for (int[] r : ranges.get(variant)) {
      copy.add(new int[] {r[0], r[1]});
    }
    return copy;
  }

  /**
   * Moves to new weights (one per variant, non-negative, positive total). Shrinking variants give
   * up their most recently added slots; growing variants receive free slots, lowest first.
   */
  public synchronized void reweight(double[] weights) {
    if (weights.length != ranges.size()) {
      throw new IllegalArgumentException(
          "weights : " + weights.length + " (expected: " + ranges.size() + ")");
    }
    int[] target = targetSlots(weights);
    short[] table = owner == null ? ownerTable(ranges) : owner.clone();
    for (int v = 0; v < target.length; v++) {
      int excess = slotsOf(v) - target[v];
      List<int[]> list = ranges.get(v);
      while (excess > 0) {
        int[] last = list.get(list.size() - 1);
        int take = Math.min(excess, last[1] - last[0]);
        for (int b = last[1] - take; b < last[1]; b++) {
          table[b] = -1;
        }
        last[1] -= take;
        excess -= take;
        if (last[0] == last[1]) {
          list.remove(list.size() - 1);
        }
      }
    }
    int free = 0;
    for (int v = 0; v < target.length; v++) {
      int missing = target[v] - slotsOf(v);
      List<int[]> list = ranges.get(v);
      while (missing > 0) {
        while (table[free] != -1) {
          free++;
        }
        table[free] = (short) v;
        int[] last = list.isEmpty() ? null : list.get(list.size() - 1);
        if (last != null && last[1] == free) {
          last[1]++;
        } else {
          list.add(new int[] {free, free + 1});
        }
        missing--;
      }
    }
    owner = table;
  }

  private int slotsOf(int variant) {
    int n = 0;
    for (int[] r : ranges.get(variant)) {
      n += r[1] - r[0];
    }
    return n;
  }

  /** Largest-remainder apportionment of the 10,000 buckets; ties go to the lower index. */
  static int[] targetSlots(double[] weights) {
    double total = 0;
    for (double w : weights) {
      if (!(w >= 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("weight : " + w + " (expected: a finite number >= 0)");
      }
      total += w;
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("weights total : " + total + " (expected: > 0)");
    }
    int[] target = new int[weights.length];
    double[] remainder = new double[weights.length];
    int assigned = 0;
    for (int i = 0; i < weights.length; i++) {
      double exact = weights[i] / total * BUCKETS;
      target[i] = (int) Math.floor(exact);
      remainder[i] = exact - target[i];
      assigned += target[i];
    }
    while (assigned < BUCKETS) {
      int best = -1;
      for (int i = 0; i < weights.length; i++) {
        if (weights[i] > 0 && (best < 0 || remainder[i] > remainder[best])) {
          best = i;
        }
      }
      target[best]++;
      remainder[best] = -1;
      assigned++;
    }
    return target;
  }

  private static short[] ownerTable(List<List<int[]>> ranges) {
    short[] table = new short[BUCKETS];
    java.util.Arrays.fill(table, (short) -1);
    for (int v = 0; v < ranges.size(); v++) {
      for (int[] r : ranges.get(v)) {
        for (int b = r[0]; b < r[1]; b++) {
          if (table[b] != -1) {
            throw new IllegalArgumentException(
                "slot "
                    + b
                    + " : owned by variants "
                    + table[b]
                    + " and "
                    + v
                    + " (expected: each slot owned once)");
          }
          table[b] = (short) v;
        }
      }
    }
    return table;
  }
}
