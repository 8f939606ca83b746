package ai.distill.loadtest.cli;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.scenario.GatewayTarget;
import ai.distill.loadtest.scenario.JobImpactScenario;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "jobimpact",
    mixinStandardHelpOptions = true,
    description =
        "Serving latency with and without an optimizer job running, alternated over a few rounds"
            + " in one run (the job is submitted through the admin API and cancelled after each"
            + " window).")
final class JobImpactCommand extends LoadCommand {
  @Option(
      names = "--job",
      required = true,
      description =
          "The /admin/v1/optimize body, e.g. {\"source\": \"ctr\", \"action\": \"distill\","
              + " \"name\": \"impact\", \"rows\": \"capture:ctr-ab\"}; it must outlast a window.")
  String job;

  @Option(
      names = "--admin-token-file",
      required = true,
      description = "File holding the gateway's admin token (e.g. <store>/admin.token).")
  Path tokenFile;

  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Requests per second (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--seconds",
      defaultValue = "20",
      description = "Measured seconds per window (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "(no job, job) pairs (default: ${DEFAULT-VALUE}).")
  int rounds;

  private JsonObject body;

  @Override
  String title() {
    return "Distill load test: serving latency with and without an optimizer job";
  }

  @Override
  void validate() {
    try {
      body = new JsonObject(job);
    } catch (DecodeException e) {
      throw new LoadTestException("--job: not a JSON object: " + e.getMessage());
    }
    if (!Files.isReadable(tokenFile)) {
      throw new LoadTestException("--admin-token-file " + tokenFile + " cannot be read");
    }
    if (seconds < 2 || rounds < 1 || !(rate > 0)) {
      throw new LoadTestException("jobimpact needs --seconds >= 2, --rounds >= 1 and --rate > 0");
    }
  }

  @Override
  void run(GatewayTarget gateway, BenchmarkResult result) {
    String token;
    try {
      token = Files.readString(tokenFile).trim();
    } catch (java.io.IOException e) {
      throw new LoadTestException("--admin-token-file: " + e.getMessage(), e);
    }
    JobImpactScenario.run(
        gateway, body, token, rate, rounds, seconds, measure.options(target), result);
  }
}
