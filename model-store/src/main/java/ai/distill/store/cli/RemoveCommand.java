package ai.distill.store.cli;

import ai.distill.store.ModelStore;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code store remove}: removes one version, or a whole model when no version is given. */
@Command(
    name = "remove",
    description = "Remove one version of a model, or the whole model when --version is omitted.")
final class RemoveCommand extends StoreSubcommand {

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--name", required = true, paramLabel = "N", description = "Model name.")
  String name;

  @Option(
      names = "--version",
      paramLabel = "V",
      description = "Version to remove (default: all versions).")
  Long version;

  @Override
  int run(ModelStore store) throws Exception {
    ModelStore.checkName(name);
    Map<String, Object> summary = new LinkedHashMap<>();
    if (version != null) {
      store.remove(name, version);
      summary.put("removed", name + ":" + version);
    } else {
      int n = store.versions(name).size();
      store.removeModel(name);
      summary.put("removed", name);
      summary.put("versions", n);
    }
    printJson(summary);
    return 0;
  }
}
