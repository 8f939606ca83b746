package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.experiment.stats.ChiSquare;
import java.util.List;
import org.junit.jupiter.api.Test;

class StickyAssignerTest {

  @Test
  void assignment_is_deterministic_across_instances() {
    StickyAssigner a = StickyAssigner.create("ctr-ab", "salt", new double[] {50, 50});
    StickyAssigner b = StickyAssigner.create("ctr-ab", "salt", new double[] {50, 50});
    for (int i = 0; i < 1000; i++) {
      String user = "u" + i;
      assertEquals(a.bucket(user), b.bucket(user));
      assertEquals(a.variantOf(a.bucket(user)), b.variantOf(b.bucket(user)));
    }
    int expected = (int) (Integer.toUnsignedLong(Murmur3.hash32("ctr-ab:salt:u42", 1)) % 10_000);
    assertEquals(expected, a.bucket("u42"));
  }

  @Test
  void bucket_depends_on_experiment_and_salt() {
    StickyAssigner a = StickyAssigner.create("e1", "s", new double[] {1});
    StickyAssigner b = StickyAssigner.create("e2", "s", new double[] {1});
    int differ = 0;
    for (int i = 0; i < 100; i++) {
      if (a.bucket("u" + i) != b.bucket("u" + i)) {
        differ++;
      }
    }
    assertTrue(differ > 90, "buckets differing: " + differ);
  }

  @Test
  void matches_the_configured_split_within_srm_bounds_over_100k_users() {
    double[] weights = {70, 20, 10};
    StickyAssigner a = StickyAssigner.create("split", "x", weights);
    long[] counts = new long[3];
    for (int i = 0; i < 100_000; i++) {
      counts[a.variantOf(a.bucket("user-" + i))]++;
    }
    double p = ChiSquare.goodnessOfFitPValue(counts, weights);
    assertTrue(p > 0.001, "SRM p-value " + p + " for counts " + java.util.Arrays.toString(counts));
    assertEquals(7000, a.slots(0));
    assertEquals(2000, a.slots(1));
    assertEquals(1000, a.slots(2));
  }

  @Test
  void no_user_of_a_growing_variant_moves_when_its_weight_rises() {
    StickyAssigner a = StickyAssigner.create("ramp", "x", new double[] {90, 5, 5});
    int users = 20_000;
    int[] before = new int[users];
    for (int i = 0; i < users; i++) {
      before[i] = a.variantOf(a.bucket("u" + i));
    }
    a.reweight(new double[] {80, 15, 5});
    a.reweight(new double[] {50, 45, 5});
    for (int i = 0; i < users; i++) {
      int after = a.variantOf(a.bucket("u" + i));
      if (before[i] == 1 || before[i] == 2) {
        assertEquals(before[i], after, "user u" + i + " moved");
      } else if (after != 0) {
        assertEquals(1, after, "a teacher user may only move to the growing variant");
      }
    }
    assertEquals(4500, a.slots(1));
    assertEquals(500, a.slots(2));
  }

  @Test
  void rollback_to_zero_and_restore_round_trip() {
    StickyAssigner a = StickyAssigner.create("r", "x", new double[] {50, 50});
    a.reweight(new double[] {50, 0});
    assertEquals(10_000, a.slots(0));
    assertEquals(0, a.slots(1));
    StickyAssigner b = StickyAssigner.restore("r", "x", List.of(a.ranges(0), a.ranges(1)));
    for (int bucket = 0; bucket < StickyAssigner.BUCKETS; bucket++) {
      assertEquals(a.variantOf(bucket), b.variantOf(bucket));
    }
  }

  @Test
  void rejects_weights_without_positive_total() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StickyAssigner.create("r", "x", new double[] {0, 0}));
    assertEquals("weights total : 0.0 (expected: > 0)", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> StickyAssigner.create("r", "x", new double[] {-1, 2}));
  }
}
