package ai.distill.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

  @TempDir Path dir;

  @Test
  void lists_serve_store_and_optimizer_subcommands() {
    CommandLine cli = Main.commandLine();
    for (String command :
        new String[] {"serve", "store", "quantize", "distill", "evaluate", "bench", "jobs"}) {
      assertTrue(cli.getSubcommands().containsKey(command), command);
    }
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    assertEquals(0, cli.execute("serve", "--help"));
    assertTrue(out.toString().contains("--store"), out.toString());
  }

  @Test
  void serve_with_a_bad_config_exits_non_zero_with_a_one_line_reason() throws Exception {
    Path config = dir.resolve("c.json");
    Files.writeString(config, "{\"prot\": 1}");
    assertNotEquals(
        0,
        Main.commandLine()
            .execute("serve", "--store", dir.toString(), "--config", config.toString()));
  }

  @Test
  void serve_without_a_store_is_a_usage_error() {
    assertEquals(2, Main.commandLine().execute("serve"));
  }

  @Test
  void demo_binds_loopback_by_default_and_honours_host() {
    DemoCommand demo = new DemoCommand();
    new CommandLine(demo).parseArgs("--store", dir.toString());
    assertEquals("127.0.0.1", demo.gatewayConfig().build().host());
    assertEquals("127.0.0.1", demo.connectHost());
    demo = new DemoCommand();
    new CommandLine(demo).parseArgs("--store", dir.toString(), "--host", "0.0.0.0", "--port", "0");
    assertEquals("0.0.0.0", demo.gatewayConfig().build().host());
    assertEquals(0, demo.gatewayConfig().build().port());
    assertEquals("127.0.0.1", demo.connectHost());
  }
}
