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

  @Test
  void every_command_prints_the_build_version() {
    for (String[] args :
        new String[][] {{"--version"}, {"serve", "--version"}, {"store", "--version"}}) {
      StringWriter out = new StringWriter();
      CommandLine cli = Main.commandLine();
      cli.setOut(new PrintWriter(out));
      assertEquals(0, cli.execute(args));
      assertTrue(
          out.toString().matches("distill \\d+\\.\\d+\\.\\d+.*\\R"),
          String.join(" ", args) + " printed: '" + out + "'");
    }
  }

  // Picocli resolves ${DISTILL_PORT} from a system property first, then the environment; the test
  // sets the properties, a container sets the environment.
  @Test
  void serve_and_demo_take_store_host_and_port_from_the_environment() {
    System.setProperty("DISTILL_STORE", dir.toString());
    System.setProperty("DISTILL_PORT", "9191");
    System.setProperty("DISTILL_HOST", "127.0.0.2");
    try {
      ServeCommand serve = new ServeCommand();
      new CommandLine(serve).parseArgs();
      assertEquals(dir, serve.store);
      assertEquals(9191, serve.port);
      assertEquals("127.0.0.2", serve.host);
      serve = new ServeCommand();
      new CommandLine(serve).parseArgs("--port", "7000");
      assertEquals(7000, serve.port, "a flag wins over the environment");
      DemoCommand demo = new DemoCommand();
      new CommandLine(demo).parseArgs();
      assertEquals(9191, demo.gatewayConfig().build().port());
      assertEquals("127.0.0.2", demo.gatewayConfig().build().host());
    } finally {
      System.clearProperty("DISTILL_STORE");
      System.clearProperty("DISTILL_PORT");
      System.clearProperty("DISTILL_HOST");
    }
  }
}
