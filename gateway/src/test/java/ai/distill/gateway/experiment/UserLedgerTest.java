package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
