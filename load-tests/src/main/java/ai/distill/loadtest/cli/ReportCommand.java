package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.MarkdownReport;
import ai.distill.loadtest.report.TerminalTable;
import ai.distill.loadtest.scenario.BaselineComparison;
import ai.distill.loadtest.scenario.BenchmarkSuite;
import ai.distill.loadtest.scenario.GatewayProcess;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.VariantBuilder;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Run the standard benchmark suite against a gateway it starts itself (or --url) and write a Markdown report with PNG plots.",
      "Without --store, a temporary store is built from --model-file (default: the shared ctr-mlp-torch fixture, else a tiny CTR model)."
    })
final class ReportCommand implements Callable<Integer> {
  @Option(
      names = "--out",
      required = true,
      description = "Report directory (report.md, results.json/.csv, plots, gateway.log).")
  Path out;

  @Option(
      names = "--store",
      description =
          "Serve this store (its models: --model and --variants). Default: a temporary store.")
  Path store;

  @Option(
      names = "--model-file",
      description = "ONNX file published as --model into the temporary store.")
  Path modelFile;

  @Option(
      names = "--model",
      defaultValue = "ctr",
      description = "Model to benchmark (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(
      names = "--variants",
      split = ",",
      description = "Other models of the store to compare (default: every other model in it).")
  List<String> variants;

  @Option(
      names = "--url",
      description =
          "Benchmark this running gateway instead of starting one (needs --store or --model-file for the baseline).")
  URI url;

  @Option(
      names = "--gateway-jar",
      defaultValue = "gateway/target/distill.jar",
      description = "(default: ${DEFAULT-VALUE})")
  Path gatewayJar;

  @Option(
      names = "--gateway-config",
      description =
          "Gateway JSON config; default: workers and intra-op threads from the options below.")
  Path gatewayConfig;

  @Option(
      names = "--workers",
      defaultValue = "1",
      description = "Gateway ORT workers, and baseline threads (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--intra-op-threads",
      defaultValue = "1",
      description = "Intra-op threads on both sides (default: ${DEFAULT-VALUE}).")
  int intraOpThreads;

  @Option(
      names = "--client-cpus",
      description = "Pin this load generator to these CPUs (taskset list, e.g. 0).")
  String clientCpus;

  @Option(
      names = "--server-cpus",
      description = "Pin the gateway it starts to these CPUs (taskset list, e.g. 1).")
  String serverCpus;

  @Option(names = "--rows", description = "Rows file; default: rows generated from the CTR world.")
  Path rows;

  @Option(
      names = "--rows-per-request",
      defaultValue = "64",
      description = "(default: ${DEFAULT-VALUE})")
  int rowsPerRequest;

  @Option(names = "--binary", description = "Use the OIP binary tensor extension.")
  boolean binary;

  @Option(
      names = "--connections",
      defaultValue = "512",
      description =
          "Client connections; more than the gateway's queue holds, so a spike reaches its admission control (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--quick",
      description =
          "Short windows (1 s warm-up, 1 s windows, at most 4): a smoke run, not a measurement.")
  boolean quick;

  @Option(
      names = "--hotswap",
      description =
          "Also run the hot swap on a given --store (it publishes a new version there). Always on for a temporary store served by a gateway this command started.")
  boolean hotswap;

  @Option(
      names = "--build-variants",
      description =
          "Into the temporary store: an INT8 copy and a distilled student built by the optimizer from --rows (labelled).")
  boolean buildVariants;

  @Option(
      names = "--spike",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Run the spike; --no-spike skips it (default: on).")
  boolean spike;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Files.createDirectories(out);
    pinClient();
    boolean temporary = store == null;
    Path storeDir = temporary ? Files.createTempDirectory("distill-report-store") : store;
    List<String> notes = new ArrayList<>();
    if (temporary) {
      publishInto(storeDir);
      if (buildVariants) {
        if (rows == null) {
          throw new LoadTestException(
              "--build-variants needs --rows with labelled rows (the optimizer's accuracy gate uses them)");
        }
        System.err.println("building variants with the optimizer (INT8, distilled student)");
        VariantBuilder.build(
            ModelStore.open(storeDir),
            model,
            rows,
            line -> {
              System.err.println("  " + line);
              notes.add(line);
            });
      }
    } else if (!Files.isDirectory(storeDir)) {
      throw new LoadTestException("--store " + storeDir + " is not a directory");
    }
    Path file = BaselineComparison.modelFile(null, storeDir, model);
    List<String> others = variants != null ? variants : otherModels(storeDir);
    BenchmarkResult result = new BenchmarkResult("Distill benchmark report");
    result.setup(
        "command",
        "distill-loadtest " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    result.setup(
        "client",
        Runtime.getRuntime().availableProcessors()
            + " core(s) visible"
            + (clientCpus != null ? " (taskset -c " + clientCpus + ")" : " (unpinned)"));
    result.setup("model", model + " (" + file + ")");
    result.setup("rows per request", rowsPerRequest);
    for (int i = 0; i < notes.size(); i++) {
      result.setup("variant " + (i + 1), notes.get(i));
    }
    result.setup(
        "both sides", workers + " ORT worker(s) × " + intraOpThreads + " intra-op thread(s)");
    GatewayProcess process = null;
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    try {
      URI target = url;
      if (target == null) {
        process =
            GatewayProcess.start(
                gatewayJar,
                storeDir,
                gatewayConfig != null ? gatewayConfig : writeConfig(),
                serverCpus,
                out.resolve("gateway.log"),
                Duration.ofSeconds(120));
        target = process.url();
        result.setup("server", process.commandLine());
      } else {
        result.setup("server", "running gateway at " + target);
      }
      GatewayTarget.Spec targetSpec =
          new GatewayTarget.Spec(
              target,
              model,
              rows,
              8192,
              42,
              rowsPerRequest,
              binary,
              connections,
              4096,
              Duration.ofSeconds(10));
      try (GatewayTarget gateway = GatewayTarget.open(vertx, targetSpec)) {
        LoadOptions options =
            quick
                ? new LoadOptions(
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(1),
                    new StabilityRule(2, 0.15, 4),
                    4096,
                    Duration.ofSeconds(11),
                    50_000_000L,
                    null)
                : new LoadOptions(
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(2),
                    StabilityRule.DEFAULT,
                    4096,
                    Duration.ofSeconds(11),
                    50_000_000L,
                    null);
        BenchmarkSuite.Plan plan =
            new BenchmarkSuite.Plan(
                file,
                storeDir,
                intraOpThreads,
                workers,
                others,
                spike,
                (temporary && url == null) || hotswap,
                Duration.ofSeconds(3),
                quick ? 4 : 8);
        BenchmarkSuite.run(gateway, options, plan, result);
      }
    } finally {
      if (process != null) {
        process.close();
      }
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .orTimeout(10, TimeUnit.SECONDS)
          .exceptionally(e -> null)
          .join();
    }
    Path md = MarkdownReport.write(result, out);
    spec.commandLine().getOut().print(TerminalTable.render(result));
    spec.commandLine().getOut().println("report: " + md);
    spec.commandLine().getOut().flush();
    return result.passed() ? 0 : LoadTestMain.EXIT_CHECK_FAILED;
  }

  private void publishInto(Path storeDir) throws IOException {
    ModelStore modelStore = ModelStore.open(storeDir);
    Path source = modelFile != null ? modelFile : fixtureModel();
    if (source != null) {
      if (!Files.isRegularFile(source)) {
        throw new LoadTestException("--model-file " + source + " does not exist");
      }
      modelStore.publish(PublishRequest.fromFile(model, source, Role.TEACHER));
    } else {
      modelStore.publish(
          PublishRequest.fromBytes(
              model,
              TinyModels.ctrModel(13, 26, 1000, 16, new int[] {256, 128}, 7).toBytes(),
              Role.TEACHER));
    }
  }

  /** The shared fixture model when it is found next to the working directory, else null. */
  private static Path fixtureModel() {
    String shared = System.getProperty("distill.shared.dir");
    List<Path> candidates = new ArrayList<>();
    if (shared != null) {
      candidates.add(Path.of(shared));
    }
    candidates.add(Path.of("..", "shared"));
    candidates.add(Path.of("..", "..", "shared"));
    for (Path dir : candidates) {
      Path f = dir.resolve("fixtures/ctr-mlp-torch/model.onnx");
      if (Files.isRegularFile(f)) {
        return f;
      }
    }
    return null;
  }

  private List<String> otherModels(Path storeDir) {
    List<String> names = new ArrayList<>(ModelStore.open(storeDir).modelNames());
    names.remove(model);
    return names;
  }

  private Path writeConfig() throws IOException {
    Path config = out.resolve("gateway-config.json");
    JsonObject json =
        new JsonObject()
            .put("workers", workers)
            .put("session", new JsonObject().put("intra_op_threads", intraOpThreads));
    Files.writeString(config, json.encodePrettily());
    return config;
  }

  private void pinClient() {
    if (clientCpus == null) {
      return;
    }
    try {
      Process p =
          new ProcessBuilder(
                  "taskset",
                  "-a",
                  "-p",
                  "-c",
                  clientCpus,
                  Long.toString(ProcessHandle.current().pid()))
              .redirectErrorStream(true)
              .start();
      String text = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new LoadTestException(
            "cannot pin the client to CPUs " + clientCpus + " with taskset: " + text.strip());
      }
    } catch (IOException e) {
      throw new LoadTestException(
          "cannot run taskset to pin the client (install util-linux or drop --client-cpus): "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
