package ai.distill.loadtest.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where results go besides the terminal table. */
final class OutputOptions {
  @Option(names = "--out", description = "Write results to OUT.json and OUT.csv.")
  Path out;

  @Option(
      names = "--event-loops",
      defaultValue = "1",
      description = "Client event-loop threads (default: ${DEFAULT-VALUE}).")
  int eventLoops;
}
