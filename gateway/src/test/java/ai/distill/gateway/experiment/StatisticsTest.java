package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatisticsTest {

    @Test
    void chi_square_survival_matches_tables() {
        assertEquals(0.05, ChiSquare.survival(3.841458820694124, 1), 1e-9);
        assertEquals(0.001, ChiSquare.survival(10.827566170662733, 1), 1e-9);
        assertEquals(0.05, ChiSquare.survival(5.991464547107979, 2), 1e-9);
        assertEquals(0.01, ChiSquare.survival(23.209251158954356, 10), 1e-9);
        assertEquals(1.0, ChiSquare.survival(0, 3), 0);
    }

    @Test
    void srm_fires_on_a_deliberately_skewed_split() {
        assertTrue(ChiSquare.goodnessOfFitPValue(new long[] {5_000, 5_400}, new double[] {50, 50}) < 0.001);
        assertTrue(ChiSquare.goodnessOfFitPValue(new long[] {5_000, 5_050}, new double[] {50, 50}) > 0.001);
    }

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
    void confidence_sequence_is_wider_than_a_fixed_interval_and_its_p_value_agrees() {
        NonInferiorityTest t = NonInferiorityTest.DEFAULT;
        NonInferiorityTest.Result r = t.compare(0.101, 1e-6, 0.1, 1e-6, 0.99, 10_000);
        double se = Math.sqrt(2e-6 * (1 + 0.99 * 0.99) / 2);
        assertTrue(r.upper() - r.difference() > 1.96 * Math.sqrt(1e-6 + 0.99 * 0.99 * 1e-6));
        assertEquals(r.lower() > 0, r.pValue() < 0.05);
        assertTrue(se > 0);
    }

    @Test
    void benjamini_hochberg_rejects_up_to_the_largest_passing_rank() {
        assertArrayEquals(new boolean[] {true, true, false},
                NonInferiorityTest.benjaminiHochberg(new double[] {0.01, 0.03, 0.5}, 0.05));
        assertArrayEquals(new boolean[] {false, false},
                NonInferiorityTest.benjaminiHochberg(new double[] {0.04, 0.2}, 0.05) );
        assertArrayEquals(new boolean[] {true, true},
                NonInferiorityTest.benjaminiHochberg(new double[] {0.045, 0.05}, 0.05));
    }
}
