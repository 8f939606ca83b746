package ai.distill.loadtest.cli;

import ai.distill.gateway.metrics.BuildInfo;
import ai.distill.loadtest.LoadTestException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The load-test tool's entry point ({@code java -jar distill-loadtest.jar <command>}). Exit codes:
 * 0 success, 1 a scenario check failed, 2 bad input (printed as one line saying what to fix), 3 a
 * bug. JMH microbenchmarks run from the same jar: {@code java -cp distill-loadtest.jar
 * org.openjdk.jmh.Main}.
 */
@Command(
    name = "distill-loadtest",
    mixinStandardHelpOptions = true,
    versionProvider = LoadTestMain.BuildVersion.class,
    description = "Open-loop load generator and benchmarks for the Distill gateway.",
    subcommands = {
      SteadyCommand.class,
      RampCommand.class,
      SpikeCommand.class,
      HotSwapCommand.class,
      JobImpactCommand.class,
      VariantsCommand.class,
      BaselineCommand.class,
      ReportCommand.class,
      TransportsCommand.class
    })
public final class LoadTestMain implements Runnable {
  public static final int EXIT_CHECK_FAILED = 1;
  public static final int EXIT_BAD_INPUT = 2;
  public static final int EXIT_BUG = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a command is required (steady, ramp, spike, hotswap, variants, baseline, report)");
  }

  /** {@code distill-loadtest <version>}, from the build. */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"distill-loadtest " + BuildInfo.version()};
    }
  }

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    System.exit(
        execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs a command line with the given output streams; returns the exit code. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new LoadTestMain());
    for (CommandLine sub : cli.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(new BuildVersion());
    }
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          Throwable cause = e;
          while (cause != null
              && !(cause instanceof LoadTestException)
              && !(cause instanceof IllegalArgumentException)) {
            cause = cause.getCause();
          }
          if (cause != null) {
            commandLine.getErr().println("distill-loadtest: " + cause.getMessage());
            commandLine.getErr().flush();
            return EXIT_BAD_INPUT;
          }
          commandLine.getErr().println("distill-loadtest: unexpected error (a bug): " + e);
          e.printStackTrace(commandLine.getErr());
          return EXIT_BUG;
        });
    return cli.execute(args);
  }
}
