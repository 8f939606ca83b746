package ai.distill.store.cli;

import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import ai.distill.store.rows.RowsFormatException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Shared {@code --store} option and error handling of the store subcommands: bad input exits 1 with
 * one line.
 */
abstract class StoreSubcommand implements Callable<Integer> {

  static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      defaultValue = "${env:DISTILL_STORE:-store}",
      description = "Model store directory (default: ${DEFAULT-VALUE}; env DISTILL_STORE).")
  Path storeDir;

  @Override
  public final Integer call() throws Exception {
    try {
      return run(ModelStore.open(storeDir));
    } catch (IllegalArgumentException
        | ModelStoreException
        | UncheckedIOException
        | RowsFormatException e) {
      err().println("store " + spec.name() + ": " + e.getMessage());
      err().flush();
      return 1;
    }
  }

  abstract int run(ModelStore store) throws Exception;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  void printJson(Object value) throws Exception {
    out().println(JSON.writeValueAsString(value));
    out().flush();
  }
}
