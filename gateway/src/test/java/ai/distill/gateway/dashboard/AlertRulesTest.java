package ai.distill.gateway.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules and the Grafana dashboard in {@code ops/} pass promtool: {@code check rules}, the
 * rules' unit tests ({@code test rules}), and every Grafana query parses as PromQL. Skipped with a
 * message when promtool (Debian's {@code prometheus} package) is absent.
 */
class AlertRulesTest {

  @TempDir Path dir;
  private String promtool;

  @BeforeEach
  void findPromtool() {
    promtool = OpsFiles.onPath("promtool");
    Assumptions.assumeTrue(
        promtool != null,
        "promtool not on PATH: install it (apt-get install -y prometheus) to check ops/ rules");
  }

  private String run(Path workdir, String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = promtool;
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p =
        new ProcessBuilder(cmd).directory(workdir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "promtool timed out");
    assertEquals(0, p.exitValue(), "promtool " + String.join(" ", args) + ":\n" + out);
    return out;
  }

  @Test
  void alert_rules_pass_promtool_check_rules() throws Exception {
    String out = run(OpsFiles.dir(), "check", "rules", OpsFiles.rules().toString());
    assertTrue(out.contains("SUCCESS: 10 rules found"), out);
  }

  @Test
  void alert_rules_pass_their_unit_tests() throws Exception {
    String out = run(OpsFiles.rulesTest().getParent(), "test", "rules", "distill-alerts.test.yml");
    assertTrue(out.contains("SUCCESS"), out);
  }

  @Test
  void every_alert_has_a_unit_test() {
    String tests = OpsFiles.read(OpsFiles.rulesTest());
    for (String alert :
        List.of(
            "DistillSrmAlarm",
            "DistillGuardrailBreach",
            "DistillRollback",
            "DistillLoadShedding",
            "DistillQueueSaturated",
            "DistillHighErrorRatio",
            "DistillModelLoadFailure",
            "DistillNoModelLoaded",
            "DistillCaptureDrops",
            "DistillDriftHigh")) {
      assertTrue(OpsFiles.read(OpsFiles.rules()).contains("alert: " + alert), alert);
      assertTrue(tests.contains("alertname: " + alert), "no unit test for " + alert);
    }
  }

  // promtool has no "check query": each Grafana query becomes a recording rule, and check rules
  // parses it. Grafana's $variables sit inside regex matchers, where they are plain strings.
  @Test
  void every_grafana_query_is_valid_promql() throws Exception {
    List<String> exprs = OpsFiles.grafanaExpressions();
    assertTrue(exprs.size() >= 25, "queries: " + exprs.size());
    StringBuilder rules = new StringBuilder("groups:\n  - name: grafana\n    rules:\n");
    for (int i = 0; i < exprs.size(); i++) {
      assertFalse(exprs.get(i).contains("$__"), "Grafana macros do not parse: " + exprs.get(i));
      rules
          .append("      - record: grafana:query_")
          .append(i)
          .append("\n        expr: '")
          .append(exprs.get(i).replace("'", "''"))
          .append("'\n");
    }
    Path file = dir.resolve("grafana-queries.yml");
    Files.writeString(file, rules);
    String out = run(dir, "check", "rules", file.toString());
    assertTrue(out.contains("SUCCESS: " + exprs.size() + " rules found"), out);
  }
}
