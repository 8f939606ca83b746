package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.baseline.InProcessBaseline;
import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.oip.GatewayClient;
import ai.distill.loadtest.oip.GeneratedRows;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.loadtest.transport.GrpcStreamDriver;
import ai.distill.loadtest.transport.GrpcUnarySender;
import ai.distill.loadtest.transport.NdjsonStreamDriver;
import ai.distill.loadtest.transport.StreamRate;
import ai.distill.loadtest.transport.TransportPayloads;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The transports side by side on one running gateway and the same rows: in-process ONNX Runtime
 * (with {@code --model-file}), HTTP with the binary tensor extension and gRPC unary (closed loop at
 * {@code --concurrency}), gRPC {@code ModelStreamInfer} and the NDJSON stream; rows/s and ratios.
 */
@Command(
    name = "transports",
    mixinStandardHelpOptions = true,
    description =
        "Rows/s of in-process ORT, HTTP binary, gRPC unary, gRPC streaming and NDJSON streaming"
            + " on the same rows, side by side.")
final class TransportsCommand implements Callable<Integer> {

  @Option(
      names = "--url",
      defaultValue = "http://127.0.0.1:8080",
      description = "(default: ${DEFAULT-VALUE})")
  URI url;

  @Option(names = "--grpc-port", defaultValue = "8081", description = "(default: ${DEFAULT-VALUE})")
  int grpcPort;

  @Option(names = "--model", required = true, description = "Model served by the gateway.")
  String model;

  @Option(
      names = "--model-file",
      description = "The model's ONNX file, for the in-process baseline.")
  Path modelFile;

  @Option(
      names = "--rows-per-request",
      defaultValue = "64",
      description = "(default: ${DEFAULT-VALUE})")
  int rowsPerRequest;

  @Option(
      names = "--concurrency",
      defaultValue = "8",
      description = "Unary requests in flight (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--streams",
      defaultValue = "1",
      description = "Concurrent streams (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(
      names = "--window",
      defaultValue = "8",
      description = "gRPC stream messages unanswered (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(
      names = "--workers",
      defaultValue = "1",
      description = "Baseline threads (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--warmup",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "(default: ${DEFAULT-VALUE})")
  Duration warmup;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Measured time per transport (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--only",
      split = ",",
      description = "Subset: baseline,http,grpc,grpc-stream,ndjson.")
  List<String> only;

  @Option(
      names = "--grpc-connections",
      defaultValue = "2",
      description = "h2c connections for gRPC unary (default: ${DEFAULT-VALUE}).")
  int connections;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    GatewayClient.checkLoopback(url);
    PrintWriter out = spec.commandLine().getOut();
    Vertx vertx = Vertx.vertx();
    Map<String, Double> rates = new LinkedHashMap<>();
    LoadOptions options =
        new LoadOptions(
            warmup,
            Duration.ofSeconds(2),
            StabilityRule.DEFAULT,
            4096,
            Duration.ofSeconds(30),
            50_000_000L,
            null);
    try (GatewayClient client =
        GatewayClient.create(vertx, url, concurrency, 4096, Duration.ofSeconds(30))) {
      ModelMetadata meta = client.metadata(model);
      List<InputRow> rows = GeneratedRows.generate(meta, 4096, 42);
      TransportPayloads payloads = TransportPayloads.encode(meta, rows, rowsPerRequest, 64);
      String host = url.getHost();
      if (wanted("baseline") && modelFile != null) {
        try (InProcessBaseline b = InProcessBaseline.open(modelFile, 1)) {
          rates.put(
              "in-process ORT",
              b.run(rows, rowsPerRequest, workers, options).measured().rowsPerSecond());
        }
      }
      if (wanted("http")) {
        RequestBodies bodies = RequestBodies.encode(meta, rows, rowsPerRequest, true, 64);
        rates.put(
            "HTTP binary (unary)",
            new ClosedLoopGenerator(client.inferSender(model, bodies, false), options)
                .run(concurrency)
                .measured()
                .rowsPerSecond());
      }
      if (wanted("grpc")) {
        try (GrpcUnarySender grpc =
            new GrpcUnarySender(vertx, host, grpcPort, payloads, connections, concurrency)) {
          rates.put(
              "gRPC unary",
              new ClosedLoopGenerator(grpc, options).run(concurrency).measured().rowsPerSecond());
        }
      }
      if (wanted("grpc-stream")) {
        StreamRate r =
            new GrpcStreamDriver(vertx, host, grpcPort, payloads)
                .run(streams, window, warmup, duration);
        check(r);
        rates.put("gRPC ModelStreamInfer", r.rowsPerSecond());
      }
      if (wanted("ndjson")) {
        StreamRate r =
            new NdjsonStreamDriver(vertx, host, url.getPort(), model, payloads)
                .run(streams, warmup, duration);
        check(r);
        rates.put("NDJSON stream", r.rowsPerSecond());
      }
    } finally {
      vertx.close().await();
    }
    Double base = rates.get("in-process ORT");
    Double http = rates.get("HTTP binary (unary)");
    out.printf(
        Locale.ROOT,
        "%-24s %14s %14s %14s%n",
        "transport",
        "rows/s",
        "÷ in-process",
        "÷ HTTP binary");
    rates.forEach(
        (name, rate) ->
            out.printf(
                Locale.ROOT,
                "%-24s %14.0f %14s %14s%n",
                name,
                rate,
                ratio(rate, base),
                ratio(rate, http)));
    out.printf(
        Locale.ROOT,
        "(%d rows per request, concurrency %d, %d stream(s), %s measured; %d cores)%n",
        rowsPerRequest,
        concurrency,
        streams,
        duration,
        Runtime.getRuntime().availableProcessors());
    out.flush();
    return 0;
  }

  private boolean wanted(String name) {
    return only == null || only.contains(name);
  }

  private static String ratio(double rate, Double of) {
    return of == null ? "-" : String.format(Locale.ROOT, "%.3f", rate / of);
  }

  private static void check(StreamRate r) {
    if (r.errors() > 0) {
      throw new LoadTestException(
          r.transport() + ": " + r.errors() + " rows answered with an error");
    }
  }
}
