package ai.distill.loadtest.cli;

import ai.distill.loadtest.scenario.GatewayTarget;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Which gateway and model to load, and how requests are built and sent. */
final class TargetOptions {
  @Option(
      names = "--url",
      defaultValue = "http://127.0.0.1:8080",
      description = "Gateway base URL, loopback only (default: ${DEFAULT-VALUE}).")
  URI url;

  @Option(
      names = "--model",
      required = true,
      description = "Model (or experiment) to load: NAME or NAME:VERSION.")
  String model;

  @Option(
      names = "--rows",
      description =
          "Rows file (JSON Lines, DESIGN.md rows format). Default: rows generated from the CTR world.")
  Path rows;

  @Option(
      names = "--generated-rows",
      defaultValue = "4096",
      description = "How many rows to generate when --rows is absent (default: ${DEFAULT-VALUE}).")
  int generatedRows;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Seed for generated rows and Poisson schedules (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--rows-per-request",
      defaultValue = "1",
      description = "Rows (candidates) per inference request (default: ${DEFAULT-VALUE}).")
  int rowsPerRequest;

  @Option(
      names = "--binary",
      description = "Send inputs with the OIP binary tensor extension instead of JSON data lists.")
  boolean binary;

  @Option(
      names = "--connections",
      defaultValue = "64",
      description = "HTTP/1.1 connections in the client pool (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--max-outstanding",
      defaultValue = "1024",
      description =
          "Most requests in flight; scheduled requests beyond it count as client saturation (default: ${DEFAULT-VALUE}).")
  int maxOutstanding;

  @Option(
      names = "--timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Per-request timeout (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  GatewayTarget.Spec spec() {
    return spec(url);
  }

  GatewayTarget.Spec spec(URI base) {
    return new GatewayTarget.Spec(
        base,
        model,
        rows,
        generatedRows,
        seed,
        rowsPerRequest,
        binary,
        connections,
        maxOutstanding,
        timeout);
  }
}
