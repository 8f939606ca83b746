package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.feedback.FeedbackOutcome;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job's canary enters an experiment as its next generation. */
class ExperimentCanaryTest {

  @TempDir Path store;

  private final ExecutorService shadowThread = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    shadowThread.shutdownNow();
  }

  private ExperimentService service(StubInvoker invoker) {
    ExperimentService s =
        new ExperimentService(
            invoker, store, shadowThread, ExperimentService.Options.DEFAULT, null, null, null);
    s.start();
    return s;
  }

  private static JsonObject variant(ExperimentDefinition d, int i) {
    return ExperimentJson.toJson(d).getJsonArray("variants").getJsonObject(i);
  }

  @Test
  void without_an_experiment_the_canary_faces_its_source_alone() {
    ExperimentService s = service(new StubInvoker("ctr-student", "ctr-int8"));

    Experiment e = s.addCanary("ab", "ctr-student", "ctr-int8", 3, 5);

    ExperimentDefinition d = e.definition();
    assertEquals("ctr-student", d.teacher());
    assertEquals(2, d.variants().size());
    assertEquals(95.0, d.variants().get(0).weight(), 1e-9);
    assertEquals("ctr-int8", d.variants().get(1).model());
    assertEquals(3L, d.variants().get(1).version());
    assertEquals(5.0, d.variants().get(1).weight(), 1e-9);
    assertEquals(Experiment.Status.RUNNING, e.status());
  }

  @Test
  void a_running_experiment_keeps_its_arms_and_the_canary_replaces_its_older_version()
      throws Exception {
    ExperimentService s = service(new StubInvoker("ctr", "ctr-student", "ctr-int8"));
    JsonObject body =
        new JsonObject()
            .put("name", "ab")
            .put("teacher", "ctr")
            .put("margin", 0.98)
            .put(
                "variants",
                new JsonArray()
                    .add(new JsonObject().put("model", "ctr").put("weight", 50))
                    .add(new JsonObject().put("model", "ctr-student").put("weight", 25))
                    .add(new JsonObject().put("model", "ctr-int8").put("weight", 25)));
    Experiment first = s.create(ExperimentJson.definition(body));
    String user = ExperimentServiceTest.userIn(first, 0);
    ExperimentService.Routed served =
        s.infer("ab", StubInvoker.request("r1", user, 0.5f))
            .toCompletionStage()
            .toCompletableFuture()
            .get();

    Experiment next = s.addCanary("ab", "ctr-student", "ctr-int8", 4, 10);

    assertEquals(Experiment.Status.STOPPED, first.status(), "the previous generation stops");
    ExperimentDefinition d = next.definition();
    assertEquals("ctr", d.teacher(), "the experiment's teacher stays the teacher");
    assertEquals(0.98, d.margin(), 1e-12, "settings carry over");
    assertEquals(3, d.variants().size());
    assertEquals("ctr", variant(d, 0).getString("model"));
    assertEquals(60.0, d.variants().get(0).weight(), 1e-9);
    assertEquals("ctr-student", variant(d, 1).getString("model"));
    assertEquals(30.0, d.variants().get(1).weight(), 1e-9);
    assertEquals("ctr-int8", variant(d, 2).getString("model"));
    assertEquals("4", variant(d, 2).getString("version"));
    assertEquals(10.0, d.variants().get(2).weight(), 1e-9);
    assertTrue(s.get("ab") == next);
    try (var files = Files.list(store.resolve("experiments/archive"))) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(
          List.of(
              "ab-" + first.createdMillis() + ".json", "ab-" + first.createdMillis() + ".users"),
          names);
    }

    // A click on the previous generation's response is accepted but counts in neither.
    assertInstanceOf(
        FeedbackOutcome.Joined.class, s.feedback().feedback(served.id(), new int[] {1}));
    JsonObject view = ExperimentJson.view(next);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, view.getJsonArray("variants").getJsonObject(i).getLong("clicks"));
    }

    // After a restart the new generation is what resumes, canary pinned to its version.
    ExperimentService again = service(new StubInvoker("ctr", "ctr-student", "ctr-int8"));
    ExperimentDefinition resumed = again.get("ab").definition();
    assertEquals(4L, resumed.variants().get(2).version());
    assertEquals(Experiment.Status.RUNNING, again.get("ab").status());
  }

  @Test
  void an_ended_experiment_restarts_as_teacher_and_canary() {
    ExperimentService s = service(new StubInvoker("ctr", "ctr-student", "ctr-int8"));
    s.create(
        ExperimentJson.definition(
            new JsonObject()
                .put("name", "ab")
                .put("teacher", "ctr")
                .put(
                    "variants",
                    new JsonArray()
                        .add(new JsonObject().put("model", "ctr").put("weight", 50))
                        .add(new JsonObject().put("model", "ctr-student").put("weight", 50)))));
    s.stop("ab", "done");

    ExperimentDefinition d = s.addCanary("ab", "ctr-student", "ctr-int8", 2, 20).definition();

    assertEquals(2, d.variants().size());
    assertEquals("ctr", d.variants().get(0).model());
    assertEquals(80.0, d.variants().get(0).weight(), 1e-9);

    // A request routed by the old generation to its third arm completes after the switch: its
    // click is accepted and counts nowhere (the new generation has no such arm).
    s.feedback()
        .remember(
            new ai.distill.gateway.feedback.Impression(
                "late", "ab", 2, "ctr-other", "u1", 1, System.currentTimeMillis() + 600_000));
    assertInstanceOf(FeedbackOutcome.Joined.class, s.feedback().feedback("late", new int[] {1}));
    assertEquals("ctr-int8", d.variants().get(1).model());
    assertNull(d.variants().get(0).version());
  }

  @Test
  void a_canary_that_does_not_fit_leaves_the_experiment_as_it_was() {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-student");
    ExperimentService s = service(invoker);
    Experiment first =
        s.create(
            ExperimentJson.definition(
                new JsonObject()
                    .put("name", "ab")
                    .put("teacher", "ctr")
                    .put(
                        "variants",
                        new JsonArray()
                            .add(new JsonObject().put("model", "ctr").put("weight", 50))
                            .add(new JsonObject().put("model", "ctr-student").put("weight", 50)))));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> s.addCanary("ab", "ctr", "ctr-gone", 1, 5));

    assertTrue(e.getMessage().contains("'ctr-gone'"), e.getMessage());
    assertTrue(s.get("ab") == first);
    assertEquals(Experiment.Status.RUNNING, first.status());
    assertThrows(
        IllegalArgumentException.class, () -> s.addCanary("ab", "ctr", "ctr-student", 1, 100));
  }
}
