package ai.distill.gateway.cli;

import ai.distill.gateway.metrics.BuildInfo;
import ai.distill.gateway.scale.KafkaRows;
import ai.distill.optimizer.cli.BenchCommand;
import ai.distill.optimizer.cli.DistillCommand;
import ai.distill.optimizer.cli.EvaluateCommand;
import ai.distill.optimizer.cli.QuantizeCommand;
import ai.distill.optimizer.cli.WorldCommand;
import ai.distill.store.cli.StoreCommand;
import java.io.IOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code distill} command line: {@code serve}, {@code demo}, {@code store}, and the optimizer
 * commands. {@code java -jar gateway/target/distill.jar --help} lists them.
 */
@Command(
    name = "distill",
    mixinStandardHelpOptions = true,
    versionProvider = Main.BuildVersion.class,
    description = "Inference gateway for compressed CTR models.",
    subcommands = {
      ServeCommand.class,
      StoreCommand.class,
      QuantizeCommand.class,
      DistillCommand.class,
      EvaluateCommand.class,
      BenchCommand.class,
      WorldCommand.class,
      DemoCommand.class,
      JobsCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    String[] resolved;
    try {
      // --data kafka://[host:port/]topic: the optimizer commands read a copy of the topic's rows
      resolved = KafkaRows.resolveDataArgs(args);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("distill: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(commandLine().execute(resolved));
  }

  /**
   * The command line with every subcommand registered (tests execute it directly). Every command,
   * subcommands of other modules included, answers {@code --version} with the build's version.
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    useBuildVersion(cli);
    return cli;
  }

  private static void useBuildVersion(CommandLine cli) {
    cli.getCommandSpec().versionProvider(new BuildVersion());
    for (CommandLine sub : cli.getSubcommands().values()) {
      useBuildVersion(sub);
    }
  }

  /** {@code distill <version>}, from the build. */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"distill " + BuildInfo.version()};
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
