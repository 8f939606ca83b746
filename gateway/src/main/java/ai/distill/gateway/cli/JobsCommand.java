package ai.distill.gateway.cli;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.jobs.JobRecord;
import ai.distill.gateway.jobs.JobRepository;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jobs list|show ID|cancel ID}: follows the optimizer jobs of a running gateway over its
 * admin API ({@code --url http://host:port}, token from {@code --admin-token}, {@code
 * $DISTILL_ADMIN_TOKEN} or {@code <store>/admin.token}), or lists a store's job records offline
 * ({@code jobs list --store DIR} without {@code --url}). Errors print one line on stderr and exit
 * 1.
 *
 * <pre>{@code
 * distill jobs list --url http://localhost:8080 --store store
 * distill jobs show 20250611-101530-123-ab12 --url http://localhost:8080
 * }</pre>
 */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    description =
        "List, show and cancel optimizer jobs (of a running gateway, or offline from a store).",
    subcommands = {
      JobsCommand.ListJobs.class,
      JobsCommand.ShowJob.class,
      JobsCommand.CancelJob.class
    })
public final class JobsCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Where the jobs are: a gateway's URL, a store, or both (the store then supplies the token). */
  static final class Target {
    @Option(
        names = "--url",
        paramLabel = "URL",
        description = "The gateway, e.g. http://localhost:8080.")
    String url;

    @Option(
        names = "--store",
        paramLabel = "DIR",
        description =
            "Model store: its admin.token (with --url), or its job records (without --url).")
    Path store;

    @Option(
        names = "--admin-token",
        paramLabel = "T",
        description = "Admin token (default: $DISTILL_ADMIN_TOKEN, else <store>/admin.token).")
    String adminToken;

    String token() throws IOException {
      if (adminToken != null) {
        return adminToken;
      }
      String env = System.getenv(Gateway.ADMIN_TOKEN_ENV);
      if (env != null && !env.isBlank()) {
        return env.trim();
      }
      if (store != null && Files.exists(store.resolve("admin.token"))) {
        return Files.readString(store.resolve("admin.token"), StandardCharsets.UTF_8).trim();
      }
      throw new IllegalArgumentException(
          "no admin token: give --admin-token, set "
              + Gateway.ADMIN_TOKEN_ENV
              + " or give --store DIR holding admin.token");
    }

    /** Sends a request to the gateway; a non-2xx answer becomes an exception with its error. */
    JsonObject call(String method, String path) throws IOException, InterruptedException {
      String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(base + path))
              .timeout(Duration.ofSeconds(30))
              .header("Authorization", "Bearer " + token())
              .method(
                  method,
                  method.equals("POST")
                      ? HttpRequest.BodyPublishers.ofString("{}")
                      : HttpRequest.BodyPublishers.noBody())
              .header("Content-Type", "application/json")
              .build();
      HttpResponse<String> response =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(10))
              .build()
              .send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      JsonObject body;
      try {
        body = new JsonObject(response.body());
      } catch (DecodeException e) {
        body = new JsonObject().put("error", response.body());
      }
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(
            method
                + " "
                + path
                + ": "
                + response.statusCode()
                + " "
                + body.getString("error", response.body()));
      }
      return body;
    }
  }

  /** Runs a subcommand body, turning failures into one line on stderr and exit 1. */
  abstract static class JobsSubcommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin Target target;

    abstract void run(PrintWriter out) throws Exception;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      try {
        run(out);
        out.flush();
        return 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        err.println("jobs: interrupted");
      } catch (IOException e) {
        err.println("jobs: cannot reach " + target.url + ": " + e);
      } catch (RuntimeException e) {
        err.println("jobs: " + e.getMessage());
      } catch (Exception e) {
        err.println("jobs: " + e);
      }
      err.flush();
      return 1;
    }

    void requireUrl() {
      if (target.url == null) {
        throw new IllegalArgumentException("give --url http://host:port of the gateway");
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "Jobs, newest first: from the gateway (--url) or the store's records (--store only).")
  static final class ListJobs extends JobsSubcommand {
    @Option(names = "--json", description = "Print the jobs as one JSON object.")
    boolean json;

    @Override
    void run(PrintWriter out) throws Exception {
      JsonArray jobs;
      if (target.url != null) {
        jobs = target.call("GET", "/admin/v1/jobs").getJsonArray("jobs");
      } else if (target.store != null) {
        jobs = new JsonArray();
        List<JobRecord> records = new JobRepository(JobRepository.dirOf(target.store)).loadAll();
        for (JobRecord r : records) {
          jobs.add(r.toJson());
        }
      } else {
        throw new IllegalArgumentException(
            "give --url http://host:port of the gateway, or --store DIR");
      }
      if (json) {
        out.println(new JsonObject().put("jobs", jobs).encode());
        return;
      }
      out.println(
          String.format(
              Locale.ROOT,
              "%-26s %-17s %-11s %-12s %5s  %-16s %-16s %s",
              "ID",
              "ACTION",
              "STATE",
              "STAGE",
              "DONE",
              "SOURCE",
              "NAME",
              "RESULT / ERROR"));
      for (Object o : jobs) {
        JsonObject j = (JsonObject) o;
        JsonObject result = j.getJsonObject("result");
        String outcome =
            result != null
                ? result.getString("model") + ":" + result.getLong("version")
                : j.getString("error", "");
        out.println(
            String.format(
                Locale.ROOT,
                "%-26s %-17s %-11s %-12s %4.0f%%  %-16s %-16s %s",
                j.getString("id"),
                j.getString("action"),
                j.getString("state"),
                j.getString("stage", "-"),
                100 * j.getDouble("progress", 0.0),
                j.getString("source"),
                j.getString("name"),
                outcome));
      }
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "One job as JSON.")
  static final class ShowJob extends JobsSubcommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The job id.")
    String id;

    @Override
    void run(PrintWriter out) throws Exception {
      if (target.url == null && target.store != null) {
        for (JobRecord r : new JobRepository(JobRepository.dirOf(target.store)).loadAll()) {
          if (r.id().equals(id)) {
            out.println(r.toJson().encodePrettily());
            return;
          }
        }
        throw new IllegalArgumentException(
            "job '" + id + "' is not in " + JobRepository.dirOf(target.store));
      }
      requireUrl();
      out.println(target.call("GET", "/admin/v1/jobs/" + id).encodePrettily());
    }
  }

  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description = "Cancel a queued or running job (a running one stops at its next step).")
  static final class CancelJob extends JobsSubcommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The job id.")
    String id;

    @Override
    void run(PrintWriter out) throws Exception {
      requireUrl();
      out.println(target.call("POST", "/admin/v1/jobs/" + id + "/cancel").encodePrettily());
    }
  }
}
