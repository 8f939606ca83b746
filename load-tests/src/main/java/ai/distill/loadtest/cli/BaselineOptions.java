package ai.distill.loadtest.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The in-process ONNX Runtime baseline run side by side with the gateway. */
final class BaselineOptions {
  @Option(
      names = "--baseline",
      description =
          "Also measure in-process ONNX Runtime on the same model, batch and threads, and print the ratios.")
  boolean enabled;

  @Option(
      names = "--model-file",
      description = "ONNX file for the baseline (default: the model's file in --store).")
  Path modelFile;

  @Option(
      names = "--store",
      description = "The gateway's model store (to find the model file; required by hotswap).")
  Path store;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "1",
      description =
          "Intra-op threads of the baseline session; match the gateway's (default: ${DEFAULT-VALUE}).")
  int intraOpThreads;

  @Option(
      names = "--baseline-workers",
      defaultValue = "1",
      description =
          "Threads running baseline batches concurrently; match the gateway's workers (default: ${DEFAULT-VALUE}).")
  int workers;
}
