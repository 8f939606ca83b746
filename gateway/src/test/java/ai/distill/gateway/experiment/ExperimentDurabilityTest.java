package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.feedback.FeedbackOutcome;
import ai.distill.gateway.feedback.FeedbackService;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What survives: concurrent saves, restarts with pending feedback, and kill -9 during a save. */
class ExperimentDurabilityTest {

  @TempDir Path store;

  private ExperimentService service(Path root) {
    ExperimentService s =
        new ExperimentService(
            new StubInvoker("ctr", "ctr-int8"),
            root,
            Runnable::run,
            ExperimentService.Options.DEFAULT,
            null,
            new FeedbackService(FeedbackService.DEFAULT_MAX_ENTRIES, null),
            null);
    assertEquals(List.of(), s.start());
    return s;
  }

  private static JsonObject counts(Experiment e, int variant) {
    return ExperimentJson.view(e).getJsonArray("variants").getJsonObject(variant);
  }

  @Test
  void concurrent_saves_of_one_experiment_leave_the_last_state_and_no_temporary_files()
      throws Exception {
    ExperimentService s = service(store);
    Experiment e = s.create(ExperimentJson.definition(ExperimentServiceTest.body("busy", 0, 0)));
    int threads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      done.add(
          pool.submit(
              () -> {
                go.await();
                for (int i = 0; i < 40; i++) {
                  String user = "t" + thread + "-u" + i;
                  ExperimentService.Routed r =
                      s.infer("busy", StubInvoker.request(null, user, 0.5f, 0.5f)).result();
                  s.feedback().feedback(r.id(), new int[] {i % 2, 0});
                  s.snapshot(); // serialized and coalesced per experiment
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    s.snapshot();

    ExperimentService again = service(store);
    Experiment loaded = again.get("busy");
    for (int v = 0; v < 2; v++) {
      for (String k : List.of("exposures", "impressions", "clicks")) {
        assertEquals(counts(e, v).getLong(k), counts(loaded, v).getLong(k), k + " of " + v);
      }
    }
    assertEquals(threads * 40L * 2, total(loaded, "impressions"));
    try (Stream<Path> files = Files.list(store.resolve("experiments"))) {
      assertEquals(
          List.of(), files.filter(f -> f.toString().endsWith(".tmp")).toList(), "temporary files");
    }
  }

  @Test
  void each_save_returns_once_a_state_at_least_as_new_is_on_disk() throws Exception {
    ExperimentService s = service(store);
    Experiment e = s.create(ExperimentJson.definition(ExperimentServiceTest.body("co", 0, 0)));
    ExperimentRepository repository = new ExperimentRepository(store.resolve("experiments"));
    // every save returns only once a write that started after it completed: serve, save, reload
    for (int i = 0; i < 20; i++) {
      assertTrue(s.infer("co", StubInvoker.request(null, "u" + i, 0.5f)).succeeded());
      repository.save(e);
      ExperimentService reader = service(store);
      assertEquals(i + 1, total(reader.get("co"), "impressions"));
    }
  }

  @Test
  void late_feedback_after_a_restart_still_joins_and_counts() {
    ExperimentService s = service(store);
    Experiment e = s.create(ExperimentJson.definition(ExperimentServiceTest.body("late", 0, 0)));
    String student = ExperimentServiceTest.userIn(e, 1);
    ExperimentService.Routed r =
        s.infer("late", StubInvoker.request("before-restart", student, 0.5f, 0.5f)).result();
    assertEquals("ctr-int8", r.model());
    s.snapshot();
    // kill -9 after the snapshot: nothing else is written (no close)

    ExperimentService again = service(store);
    FeedbackOutcome o = again.feedback().feedback("before-restart", new int[] {1, 1});
    assertInstanceOf(FeedbackOutcome.Joined.class, o);
    assertEquals("late", ((FeedbackOutcome.Joined) o).impression().experiment());
    assertEquals(2, counts(again.get("late"), 1).getLong("clicks"));
    assertInstanceOf(
        FeedbackOutcome.Duplicate.class,
        again.feedback().feedback("before-restart", new int[] {1, 1}));
  }

  @Test
  void a_saver_killed_at_a_random_moment_always_leaves_a_loadable_state() throws Exception {
    Random random = new Random();
    long acknowledged = 0;
    for (int round = 0; round < 3; round++) {
      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-XX:TieredStopAtLevel=1",
                  "-cp",
                  System.getProperty("java.class.path"),
                  SaveLoop.class.getName(),
                  store.toString())
              .redirectError(store.resolve("child-" + round + ".log").toFile())
              .start();
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        int seen = 0;
        while (seen < 3 && (line = out.readLine()) != null) {
          assertTrue(line.startsWith("saved "), "child said: " + line);
          acknowledged = Long.parseLong(line.substring("saved ".length()));
          seen++;
        }
        assertEquals(3, seen, "the child saver did not start");
        Thread.sleep(random.nextInt(100));
      } finally {
        child.destroyForcibly();
        child.waitFor();
      }
      ExperimentService loaded = service(store); // asserts no load errors
      long impressions = total(loaded.get("crash"), "impressions");
      assertTrue(
          impressions >= acknowledged,
          "round " + round + ": " + impressions + " < acknowledged " + acknowledged);
      assertEquals(0, impressions % SaveLoop.IMPRESSIONS_PER_SAVE, "a whole snapshot");
    }
  }

  private static long total(Experiment e, String key) {
    return counts(e, 0).getLong(key) + counts(e, 1).getLong(key);
  }

  /** The child process: serves and saves an experiment in a loop, printing what it saved. */
  public static final class SaveLoop {
    static final int REQUESTS_PER_SAVE = 500;
    static final int IMPRESSIONS_PER_SAVE = REQUESTS_PER_SAVE * 2;

    public static void main(String[] args) {
      ExperimentService s =
          new ExperimentService(
              new StubInvoker("ctr", "ctr-int8"),
              Path.of(args[0]),
              Runnable::run,
              ExperimentService.Options.DEFAULT,
              null,
              null,
              null);
      s.start();
      if (!s.isExperiment("crash")) {
        s.create(ExperimentJson.definition(ExperimentServiceTest.body("crash", 0, 0)));
      }
      Experiment e = s.get("crash");
      for (long batch = 0; ; batch++) {
        for (int i = 0; i < REQUESTS_PER_SAVE; i++) {
          String user = "u" + ((batch * REQUESTS_PER_SAVE + i) % 50_000);
          ExperimentService.Routed r =
              s.infer("crash", StubInvoker.request(null, user, 0.5f, 0.5f)).result();
          s.feedback().feedback(r.id(), new int[] {i % 2, 0});
        }
        s.snapshot();
        System.out.println("saved " + total(e, "impressions"));
        System.out.flush();
      }
    }
  }
}
