package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UserLedgerTest {

  @Test
  void delta_method_variance_matches_a_direct_computation() {
    UserLedger ledger = new UserLedger(100);
    int[][] users = {{3, 1}, {5, 0}, {2, 2}, {10, 1}};
    for (int i = 0; i < users.length; i++) {
      ledger.impression(i + 1, users[i][0] - 1);
      ledger.impression(i + 1, 1);
      if (users[i][1] > 0) {
        ledger.click(i + 1, users[i][1]);
      }
    }
    double u = 4;
    double mn = 20 / u;
    double mc = 4 / u;
    double vn = 0;
    double vc = 0;
    double cov = 0;
    for (int[] x : users) {
      vn += (x[0] - mn) * (x[0] - mn);
      vc += (x[1] - mc) * (x[1] - mc);
      cov += (x[0] - mn) * (x[1] - mc);
    }
    vn /= 3;
    vc /= 3;
    cov /= 3;
    double r = 0.2;
    assertEquals(4, ledger.users());
    assertEquals(0.2, ledger.ratio(), 1e-12);
    assertEquals((vc - 2 * r * cov + r * r * vn) / (u * mn * mn), ledger.ratioVariance(), 1e-12);
  }

  @Test
  void growth_rehashes_one_segment_at_a_time_and_keeps_every_user() {
    int maxUsers = 200_000;
    UserLedger ledger = new UserLedger(maxUsers);
    java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    long[] users = new long[maxUsers];
    for (int i = 0; i < maxUsers; i++) {
      users[i] = random.nextLong();
      assertTrue(ledger.impression(users[i], 1));
    }
    assertEquals(maxUsers, ledger.users());
    assertTrue(
        ledger.largestRehash() <= 2 * maxUsers / UserLedger.SEGMENTS,
        "largest rehash " + ledger.largestRehash() + " entries");
    for (long u : users) {
      assertTrue(ledger.click(u, 1), "a user survived growth");
    }
    assertEquals(maxUsers, ledger.clicks());
    assertFalse(ledger.impression(random.nextLong(), 1), "beyond maxUsers");
    assertEquals(1, ledger.untracked());
  }

  @Test
  void segment_copies_restore_the_same_ledger() {
    UserLedger ledger = new UserLedger(1000);
    for (int i = 1; i <= 500; i++) {
      ledger.impression(i * 7919L, i % 4 + 1);
      if (i % 3 == 0) {
        ledger.click(i * 7919L, 1);
      }
    }
    UserLedger copy = new UserLedger(1000);
    for (int s = 0; s < UserLedger.SEGMENTS; s++) {
      long[] pairs = ledger.copySegment(s);
      for (int i = 0; i < pairs.length; i += 2) {
        copy.restore(pairs[i], pairs[i + 1]);
      }
    }
    assertEquals(ledger.users(), copy.users());
    assertEquals(ledger.impressions(), copy.impressions());
    assertEquals(ledger.clicks(), copy.clicks());
    assertEquals(ledger.ratioVariance(), copy.ratioVariance(), 1e-15);
  }
}
