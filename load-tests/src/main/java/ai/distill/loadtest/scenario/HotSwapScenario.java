package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.generator.Outcome;
import ai.distill.loadtest.generator.RequestSender;
import ai.distill.loadtest.generator.StabilityRule;
import ai.distill.loadtest.report.BenchmarkResult;
import ai.distill.loadtest.report.Measurement;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes a new version of the model into the gateway's store halfway through a steady open-loop
 * run and checks that no request failed; it also tallies the {@code model_version} the responses
 * report, to show the swap happened. Stateless.
 */
public final class HotSwapScenario {
  private HotSwapScenario() {}

  /**
   * @param publishFile the ONNX file to publish; null re-publishes the current version's file
   * @param windows one-second measurement windows; the publish happens after half of them
   */
  public static void run(
      GatewayTarget target,
      Path store,
      Path publishFile,
      double rate,
      int windows,
      LoadOptions base,
      BenchmarkResult out) {
    String name = target.modelName();
    ModelStore modelStore = ModelStore.open(store);
    ModelVersion current;
    try {
      current = modelStore.resolve(name);
    } catch (RuntimeException e) {
      throw new LoadTestException(
          "hot swap needs model '" + name + "' in store " + store + ": " + e.getMessage(), e);
    }
    Path file = publishFile != null ? publishFile : current.modelFile();
    Map<String, Long> versions = new TreeMap<>();
    RequestSender tallying = tally(target.sender(true), versions);
    LoadOptions options =
        base.withWindow(Duration.ofSeconds(1))
            .withStability(new StabilityRule(windows, 1e9, windows));
    AtomicReference<Object> published = new AtomicReference<>();
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "hotswap-publisher"));
    long delayMs = options.warmup().toMillis() + windows * 1000L / 2;
    timer.schedule(
        () -> {
          try {
            published.set(
                modelStore.publish(
                    PublishRequest.fromFile(name, file, current.role(), current.id(), Map.of())));
          } catch (RuntimeException e) {
            published.set(e);
          }
        },
        delayMs,
        TimeUnit.MILLISECONDS);
    Measurement m;
    try {
      OpenLoopGenerator generator = new OpenLoopGenerator(tallying, options);
      m = target.measure("hotswap", () -> generator.run(rate));
    } finally {
      timer.shutdownNow();
    }
    out.add(m);
    RampScenario.progress(m);
    Object p = published.get();
    if (!(p instanceof ModelVersion newVersion)) {
      out.check(
          "published a new version under load",
          false,
          p == null ? "the publish did not run" : String.valueOf(p));
      return;
    }
    out.setup("hot swap", current.id() + " → " + newVersion.id() + " at " + delayMs + " ms");
    out.check(
        "published a new version under load",
        true,
        newVersion.id() + " published " + delayMs + " ms into the run");
    out.check(
        "zero failed requests during the hot swap",
        m.errors() == 0,
        m.errors() == 0
            ? m.sent() + " requests, all 2xx"
            : m.errors() + " requests failed (" + m.errorSummary() + ")");
    String seen = versions.isEmpty() ? "responses carry no model_version" : versions.toString();
    boolean swapped = versions.containsKey(Long.toString(newVersion.version()));
    out.check(
        "responses switched to the new version",
        swapped || versions.isEmpty(),
        "versions seen in responses: " + seen + (versions.isEmpty() ? " (not verifiable)" : ""));
  }

  /** Wraps a sender: counts each response's {@code model_version}, then drops the body. */
  static RequestSender tally(RequestSender sender, Map<String, Long> versions) {
    return new RequestSender() {
      @Override
      public Future<Outcome> send(long i) {
        return sender
            .send(i)
            .map(
                o -> {
                  String v = modelVersion(o.body());
                  if (v != null) {
                    synchronized (versions) {
                      versions.merge(v, 1L, Long::sum);
                    }
                  }
                  return new Outcome(o.status(), o.error(), o.sentNanos(), o.doneNanos(), null);
                });
      }

      @Override
      public int rowsPerRequest() {
        return sender.rowsPerRequest();
      }

      @Override
      public boolean canSchedule() {
        return sender.canSchedule();
      }

      @Override
      public void schedule(long nanos, Runnable task) {
        sender.schedule(nanos, task);
      }
    };
  }

  /** The first {@code "model_version"} value in a JSON response, without parsing the whole body. */
  static String modelVersion(Buffer body) {
    if (body == null) {
      return null;
    }
    String text = body.toString();
    int key = text.indexOf("\"model_version\"");
    if (key < 0) {
      return null;
    }
    int colon = text.indexOf(':', key);
    int i = colon + 1;
    while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '"')) {
      i++;
    }
    int end = i;
    while (end < text.length() && ",}\" ".indexOf(text.charAt(end)) < 0) {
      end++;
    }
    return end > i ? text.substring(i, end) : null;
  }
}
