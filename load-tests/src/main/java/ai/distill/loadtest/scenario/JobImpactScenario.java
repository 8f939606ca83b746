package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What an optimizer job costs the serving path: the same open-loop load with no job running and
 * while a job runs (submitted through {@code POST /admin/v1/optimize}, cancelled when its window
 * ends), alternated for a few rounds so that both sides see the same minutes of a noisy machine.
 * Reports each window's p50/p99 and the ratio of the median p99s. Stateless.
 */
public final class JobImpactScenario {

  private JobImpactScenario() {}

  /**
   * @param job the {@code /admin/v1/optimize} body; it must run longer than a window
   * @param adminToken the gateway's admin token
   * @param rounds how many (no job, job) pairs to measure
   * @param windows one-second windows per measurement
   */
  public static void run(
      GatewayTarget target,
      JsonObject job,
      String adminToken,
      double rate,
      int rounds,
      int windows,
      LoadOptions base,
      BenchmarkResult out) {
    HttpClient http = HttpClient.newHttpClient();
    URI url = target.spec().url();
    LoadOptions options =
        base.withWindow(Duration.ofSeconds(1))
            .withStability(new StabilityRule(windows, 1e9, windows));
    List<Double> idle = new ArrayList<>();
    List<Double> busy = new ArrayList<>();
    for (int r = 1; r <= rounds; r++) {
      Measurement quiet = measure(target, options, rate, "no job, round " + r);
      out.add(quiet);
      idle.add(quiet.latency().p99());
      String id = submit(http, url, adminToken, job);
      awaitRunning(http, url, adminToken, id);
      Measurement loaded = measure(target, options, rate, "job running, round " + r);
      String state = call(http, url, adminToken, "GET", "/admin/v1/jobs/" + id, null);
      boolean ranThrough = new JsonObject(state).getString("state").equals("running");
      call(http, url, adminToken, "POST", "/admin/v1/jobs/" + id + "/cancel", "{}");
      out.add(loaded);
      busy.add(loaded.latency().p99());
      out.check(
          "round " + r + ": the job ran through the whole window",
          ranThrough,
          "job "
              + id
              + " was "
              + new JsonObject(state).getString("state")
              + " at the window's end");
      System.err.printf(
          "round %d: p99 %.3f ms without a job, %.3f ms with job %s%n",
          r, quiet.latency().p99(), loaded.latency().p99(), id);
      awaitEnded(http, url, adminToken, id);
    }
    double without = median(idle);
    double with = median(busy);
    out.setup("job", job.encode());
    out.figure("median p99 without a job (ms)", without);
    out.figure("median p99 with a job running (ms)", with);
    out.figure("p99 with ÷ without a job", with / without);
    System.err.printf(
        "median p99 over %d rounds: %.3f ms without a job, %.3f ms with one (%.2fx)%n",
        rounds, without, with, with / without);
  }

  private static Measurement measure(
      GatewayTarget target, LoadOptions options, double rate, String group) {
    OpenLoopGenerator generator = new OpenLoopGenerator(target.sender(false), options);
    return target.measure(group, () -> generator.run(rate));
  }

  private static String submit(HttpClient http, URI url, String token, JsonObject job) {
    String body = call(http, url, token, "POST", "/admin/v1/optimize", job.encode());
    return new JsonObject(body).getString("job");
  }

  private static void awaitRunning(HttpClient http, URI url, String token, String id) {
    for (int i = 0; i < 600; i++) {
      String state =
          new JsonObject(call(http, url, token, "GET", "/admin/v1/jobs/" + id, null))
              .getString("state");
      if (state.equals("running")) {
        return;
      }
      if (!state.equals("queued")) {
        throw new LoadTestException("job " + id + " ended before the window: " + state);
      }
      sleep(100);
    }
    throw new LoadTestException("job " + id + " did not start within 60 s");
  }

  private static void awaitEnded(HttpClient http, URI url, String token, String id) {
    for (int i = 0; i < 600; i++) {
      String state =
          new JsonObject(call(http, url, token, "GET", "/admin/v1/jobs/" + id, null))
              .getString("state");
      if (!state.equals("running") && !state.equals("queued")) {
        return;
      }
      sleep(100);
    }
  }

  private static String call(
      HttpClient http, URI url, String token, String method, String path, String body) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(url.resolve(path))
                  .header("Authorization", "Bearer " + token)
                  .header("Content-Type", "application/json")
                  .method(
                      method,
                      body == null
                          ? HttpRequest.BodyPublishers.noBody()
                          : HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() >= 300) {
        throw new LoadTestException(method + " " + path + ": " + r.statusCode() + " " + r.body());
      }
      return r.body();
    } catch (java.io.IOException e) {
      throw new LoadTestException(method + " " + path + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoadTestException("interrupted", e);
    }
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoadTestException("interrupted", e);
    }
  }
}
