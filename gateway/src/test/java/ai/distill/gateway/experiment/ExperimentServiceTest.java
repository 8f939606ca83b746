package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.capture.CaptureService;
import ai.distill.gateway.capture.CaptureWriter;
import ai.distill.gateway.feedback.FeedbackOutcome;
import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExperimentServiceTest {

  @TempDir Path store;

  private final ExecutorService shadowThread = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    shadowThread.shutdownNow();
  }

  static JsonObject body(String name, double shadowRate, double captureRate) {
    return new JsonObject()
        .put("name", name)
        .put("teacher", "ctr")
        .put(
            "variants",
            new JsonArray()
                .add(new JsonObject().put("model", "ctr").put("weight", 50))
                .add(new JsonObject().put("model", "ctr-int8").put("weight", 50)))
        .put("shadow_rate", shadowRate)
        .put("capture_rate", captureRate);
  }

  private ExperimentService service(StubInvoker invoker) {
    ExperimentService s =
        new ExperimentService(
            invoker, store, shadowThread, ExperimentService.Options.DEFAULT, null, null, null);
    s.start();
    return s;
  }

  /** A user id the sticky assignment sends to the given variant. */
  static String userIn(Experiment e, int variant) {
    for (int i = 0; ; i++) {
      if (e.assign("u" + i).variant() == variant) {
        return "u" + i;
      }
    }
  }

  @Test
  void shadow_scoring_never_delays_the_response() throws Exception {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8");
    invoker.scale.put("ctr-int8", 0.5f);
    invoker.blockedModel = "ctr";
    ExperimentService s = service(invoker);
    Experiment e = s.create(ExperimentJson.definition(body("ab", 1.0, 0)));
    String student = userIn(e, 1);

    Future<ExperimentService.Routed> response =
        s.infer("ab", StubInvoker.request("r1", student, 0.4f, 0.8f));

    assertTrue(
        response.isComplete(), "the response completed while the teacher's shadow run is blocked");
    assertEquals("ctr-int8", response.result().model());
    assertTrue(invoker.blockedEntered.await(10, TimeUnit.SECONDS), "the shadow run started");
    assertEquals(0, s.shadow().scored());
    invoker.gate.countDown();
    shadowThread.shutdown();
    assertTrue(shadowThread.awaitTermination(10, TimeUnit.SECONDS));
    assertEquals(1, s.shadow().scored());
    JsonObject shadow =
        ExperimentJson.view(e).getJsonArray("variants").getJsonObject(1).getJsonObject("shadow");
    assertEquals(2, shadow.getLong("rows"));
    assertEquals(0.3, shadow.getDouble("mean_abs_diff"), 1e-6);
    assertEquals(0.5, shadow.getDouble("mean_ratio"), 1e-6);
    assertEquals(1.0, shadow.getDouble("rank_agreement"), 1e-9);
  }

  @Test
  void shadow_scoring_is_dropped_beyond_the_in_flight_limit() throws Exception {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8");
    invoker.blockedModel = "ctr";
    ExperimentService s =
        new ExperimentService(
            invoker,
            null,
            shadowThread,
            ExperimentService.Options.DEFAULT.withShadowMaxInFlight(1),
            null,
            null,
            null);
    Experiment e = s.create(ExperimentJson.definition(body("ab", 1.0, 0)));
    String student = userIn(e, 1);
    for (int i = 0; i < 5; i++) {
      assertTrue(s.infer("ab", StubInvoker.request("r" + i, student, 0.1f)).succeeded());
    }
    assertEquals(4, s.shadow().dropped());
    invoker.gate.countDown();
  }

  @Test
  void feedback_joins_clicks_to_the_variant_and_rejects_bad_feedback() {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8");
    ExperimentService s = service(invoker);
    Experiment e = s.create(ExperimentJson.definition(body("ab", 0, 0)));
    String student = userIn(e, 1);
    ExperimentService.Routed r =
        s.infer("ab", StubInvoker.request(null, student, 0.1f, 0.2f, 0.3f)).result();
    assertNotNull(r.id(), "a generated response id");
    assertEquals("7", r.parameters().get("model_version"));
    assertEquals("ctr-int8", r.parameters().get("variant"));

    FeedbackOutcome.WrongCount w =
        assertInstanceOf(
            FeedbackOutcome.WrongCount.class, s.feedback().feedback(r.id(), new int[] {1}));
    assertEquals(3, w.impression().rows());
    assertInstanceOf(
        FeedbackOutcome.Joined.class, s.feedback().feedback(r.id(), new int[] {0, 1, 1}));
    assertInstanceOf(
        FeedbackOutcome.Duplicate.class, s.feedback().feedback(r.id(), new int[] {0, 1, 1}));
    assertInstanceOf(FeedbackOutcome.Unknown.class, s.feedback().feedback("nope", new int[] {1}));

    JsonObject v = ExperimentJson.view(e).getJsonArray("variants").getJsonObject(1);
    assertEquals(1, v.getLong("exposures"));
    assertEquals(3, v.getLong("impressions"));
    assertEquals(2, v.getLong("clicks"), "the duplicate did not count twice");
  }

  @Test
  void restart_resumes_an_experiment_with_its_counts() {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8");
    ExperimentService s = service(invoker);
    Experiment e = s.create(ExperimentJson.definition(body("resume", 0, 0)));
    String teacherUser = userIn(e, 0);
    assertTrue(s.infer("resume", StubInvoker.request("t", teacherUser, 0.5f, 0.5f)).succeeded());
    for (int u = 0; u < 500; u++) {
      ExperimentService.Routed r =
          s.infer("resume", StubInvoker.request("r" + u, "u" + u, 0.5f, 0.5f)).result();
      s.feedback().feedback(r.id(), new int[] {u % 3 == 0 ? 1 : 0, 0});
    }
    e.rollback(null, "operator");
    JsonObject before = ExperimentJson.view(e);
    s.close();

    ExperimentService again = service(new StubInvoker("ctr", "ctr-int8"));
    Experiment resumed = again.get("resume");
    JsonObject after = ExperimentJson.view(resumed);
    assertEquals("rolled_back", after.getString("status"));
    for (int i = 0; i < 2; i++) {
      JsonObject b = before.getJsonArray("variants").getJsonObject(i);
      JsonObject a = after.getJsonArray("variants").getJsonObject(i);
      for (String k : List.of("exposures", "impressions", "clicks", "slots")) {
        assertEquals(b.getLong(k), a.getLong(k), k + " of variant " + i);
      }
      assertEquals(b.getDouble("ctr"), a.getDouble("ctr"));
    }
    assertEquals(before.getJsonArray("history"), after.getJsonArray("history"));
    // a returning user is not a new exposure
    long exposures = after.getJsonArray("variants").getJsonObject(0).getLong("exposures");
    assertTrue(
        again.infer("resume", StubInvoker.request("again", teacherUser, 0.5f, 0.5f)).succeeded());
    assertEquals(
        exposures,
        ExperimentJson.view(resumed)
            .getJsonArray("variants")
            .getJsonObject(0)
            .getLong("exposures"));
    assertTrue(Files.exists(store.resolve("experiments").resolve("resume.json")));
  }

  @Test
  void creation_rejects_name_clashes_unloaded_models_and_signature_mismatches() {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8", "other");
    invoker.signatures.put(
        "other",
        new VariantInvoker.Signature(
            List.of(new TensorSpec("x", Datatype.FP32, new long[] {-1, 3})),
            StubInvoker.SIGNATURE.outputs()));
    ExperimentService s =
        new ExperimentService(
            invoker, null, shadowThread, ExperimentService.Options.DEFAULT, null, null, null);
    ExperimentConflictException clash =
        assertThrows(
            ExperimentConflictException.class,
            () -> s.create(ExperimentJson.definition(body("ctr", 0, 0))));
    assertTrue(clash.getMessage().startsWith("name: 'ctr' is already a model"), clash.getMessage());

    JsonObject missing = body("ab", 0, 0);
    missing.getJsonArray("variants").getJsonObject(1).put("model", "ghost");
    IllegalArgumentException notLoaded =
        assertThrows(
            IllegalArgumentException.class, () -> s.create(ExperimentJson.definition(missing)));
    assertEquals(
        "variants[1].model: 'ghost' is not loaded (expected: a loaded model; load it first)",
        notLoaded.getMessage());

    JsonObject mismatch = body("ab", 0, 0);
    mismatch.getJsonArray("variants").getJsonObject(1).put("model", "other");
    IllegalArgumentException sig =
        assertThrows(
            IllegalArgumentException.class, () -> s.create(ExperimentJson.definition(mismatch)));
    assertTrue(
        sig.getMessage().startsWith("variants[1].model: 'other' has signature"), sig.getMessage());

    JsonObject zero = body("ab", 0, 0);
    zero.getJsonArray("variants").getJsonObject(0).put("weight", 0);
    zero.getJsonArray("variants").getJsonObject(1).put("weight", 0);
    assertEquals(
        "variants: weights sum to 0.0 (expected: a positive total)",
        assertThrows(IllegalArgumentException.class, () -> ExperimentJson.definition(zero))
            .getMessage());

    s.create(ExperimentJson.definition(body("ab", 0, 0)));
    assertThrows(
        ExperimentConflictException.class,
        () -> s.create(ExperimentJson.definition(body("ab", 0, 0))));
  }

  @Test
  void captured_rows_carry_outputs_teacher_outputs_and_labels() throws Exception {
    StubInvoker invoker = new StubInvoker("ctr", "ctr-int8");
    invoker.scale.put("ctr-int8", 0.5f);
    FeedbackService feedback = new FeedbackService(FeedbackService.DEFAULT_MAX_ENTRIES, null);
    CaptureService capture =
        new CaptureService(
            store,
            CaptureService.Options.DEFAULT.withLimits(
                new CaptureWriter.Limits(100, 1 << 20, 1 << 22)),
            null,
            feedback);
    capture.start();
    ExperimentService s =
        new ExperimentService(
            invoker,
            store,
            Runnable::run,
            ExperimentService.Options.DEFAULT,
            null,
            feedback,
            capture);
    s.start();
    Experiment e = s.create(ExperimentJson.definition(body("cap", 1.0, 1.0)));
    ExperimentService.Routed r =
        s.infer("cap", StubInvoker.request("r1", userIn(e, 1), 0.4f, 0.8f)).result();
    feedback.feedback(r.id(), new int[] {1, 0});
    s.close();
    capture.close();
    List<String> lines =
        Files.readAllLines(
            CaptureWriter.segmentFiles(store.resolve("captures").resolve("cap")).get(0));
    assertEquals(2, lines.size());
    JsonObject row = new JsonObject(lines.get(0));
    assertEquals(1, row.getInteger("label"));
    assertEquals("ctr-int8", row.getString("variant"));
    assertEquals(0.2, row.getJsonObject("outputs").getJsonArray("prob").getDouble(0), 1e-6);
    assertEquals(0.4, row.getJsonObject("teacher_outputs").getJsonArray("prob").getDouble(0), 1e-6);
    assertEquals(0.4, row.getJsonObject("inputs").getJsonArray("x").getDouble(0), 1e-6);
    assertEquals(0, new JsonObject(lines.get(1)).getInteger("label"));
  }

  @Test
  void definition_files_in_the_store_create_experiments_at_start() throws Exception {
    Path dir = store.resolve("experiments");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("from-file.json"), body("from-file", 0, 0).encode());
    JsonObject broken = body("broken", 0, 0);
    broken.getJsonArray("variants").getJsonObject(1).put("model", "ghost");
    Files.writeString(dir.resolve("broken.json"), broken.encode());
    ExperimentService s =
        new ExperimentService(
            new StubInvoker("ctr", "ctr-int8"),
            store,
            shadowThread,
            ExperimentService.Options.DEFAULT,
            null,
            null,
            null);
    List<String> errors = s.start();
    assertEquals("running", ExperimentJson.view(s.get("from-file")).getString("status"));
    assertEquals(
        List.of(
            "broken.json: variants[1].model: 'ghost' is not loaded (expected: a loaded model; "
                + "load it first)"),
        errors);
    assertTrue(
        new JsonObject(Files.readString(dir.resolve("from-file.json"))).containsKey("definition"),
        "the definition file became the experiment's state");
    s.close();
  }
}
