package ai.distill.store.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code store import|list|remove}: manage the model store from the command line.
 *
 * <pre>{@code
 * int exit = new CommandLine(new StoreCommand()).execute("import", "--store", "store", "--name", "ctr", "--file", "ctr.onnx");
 * }</pre>
 *
 * The gateway's {@code Main} registers it as a subcommand. Each subcommand prints a one-line JSON
 * summary on success and exits non-zero with a one-line reason on bad input.
 */
@Command(
    name = "store",
    mixinStandardHelpOptions = true,
    description = "Manage the model store: import ONNX models, list and remove versions.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {ImportCommand.class, ListCommand.class, RemoveCommand.class})
public final class StoreCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  public StoreCommand() {}

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing subcommand (expected: import, list or remove)");
  }
}
