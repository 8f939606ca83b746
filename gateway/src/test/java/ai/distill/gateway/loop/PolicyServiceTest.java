package ai.distill.gateway.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.jobs.JobMetrics;
import ai.distill.gateway.jobs.JobRunner;
import ai.distill.gateway.jobs.JobService;
import ai.distill.gateway.jobs.JobSpec;
import ai.distill.gateway.jobs.JobsConfig;
import ai.distill.optimizer.drift.InputKind;
import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.RowsReader;
import ai.distill.store.rows.RowsWriter;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recalibration loop against a real store and job service (jobs held or failed by a fake
 * runner): drift is measured against the INT8 model's calibration sketch, fires on a shifted
 * population and not on the calibrated one, waits for rows of the new distribution, starts one job,
 * and respects running jobs and the cool-down.
 */
class PolicyServiceTest {

  @TempDir Path root;
  private ModelStore store;
  private JobService jobs;
  private final List<JobRunner.Task> started = new CopyOnWriteArrayList<>();
  private final List<JobRunner.Listener> listeners = new CopyOnWriteArrayList<>();
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final AtomicLong now = new AtomicLong();
  private PolicyService policies;
  private Random random = new Random(11);

  @BeforeEach
  void setUp() throws Exception {
    store = ModelStore.open(root);
    store.publish(
        PublishRequest.fromBytes(
            "mlp", TinyModels.mlp(4, new int[] {8}, 1).toBytes(), Role.TEACHER));
    Path calibration = rows(root.resolve("calibration.jsonl"), 1_000, 0, 0);
    ReferenceSketch sketch;
    try (RowsReader r = RowsReader.open(calibration)) {
      sketch = ReferenceSketch.builder(Map.of("x", InputKind.FLOAT)).addAll(r).build();
    }
    store.publish(
        PublishRequest.fromBytes(
            "mlp-int8",
            TinyModels.mlp(4, new int[] {8}, 1).toBytes(),
            Role.STUDENT,
            "mlp:1",
            Map.of(ReferenceSketch.METRICS_KEY, sketch.toMap())));
    JobRunner held =
        new JobRunner() {
          @Override
          public Execution start(Task task, Listener listener) {
            started.add(task);
            listeners.add(listener);
            return () -> listener.cancelled("held");
          }

          @Override
          public void close() {}
        };
    jobs =
        new JobService(
            store,
            JobsConfig.DEFAULT,
            held,
            null,
            JobMetrics.register(registry),
            Clock.systemUTC());
    jobs.start();
    now.set(System.currentTimeMillis() + 1_000);
    policies =
        new PolicyService(
            store, jobs, new DriftMonitor(store, registry), registry, List.of(), now::get);
    policies.start();
    policies.put(
        RecalibrationPolicy.fromJson(
            new JsonObject()
                .put("model", "mlp-int8")
                .put("rows", "capture:ab")
                .put("min_rows", 500)
                .put("window_rows", 500)
                .put("psi_threshold", 0.2)
                .put("check_seconds", 1)
                .put("cooldown_seconds", 60)
                .put("canary", new JsonObject().put("experiment", "ab").put("weight", 10))));
  }

  @AfterEach
  void tearDown() {
    jobs.close();
  }

  /** Rows of x ~ N(shift, 1)^4 captured at {@code ts}. */
  private Path rows(Path file, int n, double shift, long ts) throws Exception {
    Files.createDirectories(file.getParent());
    try (RowsWriter w = Files.exists(file) ? RowsWriter.append(file) : RowsWriter.create(file)) {
      for (int i = 0; i < n; i++) {
        float[] x = new float[4];
        for (int j = 0; j < 4; j++) {
          x[j] = (float) (shift + random.nextGaussian());
        }
        w.write(Map.of("x", x), null, JsonNodeFactory.instance.objectNode().put("ts", ts));
      }
    }
    return file;
  }

  private void capture(int n, double shift) throws Exception {
    rows(root.resolve("captures/ab/segment-000000000001.jsonl"), n, shift, now.get());
  }

  private void tick(long advanceMillis) {
    now.addAndGet(advanceMillis);
    policies.tick();
  }

  private JsonObject view() {
    return policies.list().getJsonObject(0);
  }

  private double psiMax() {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getPrometheusName().equals("distill_drift_psi_max"))
        .filter(s -> !s.getDataPoints().isEmpty())
        .findFirst()
        .map(s -> s.getDataPoints().get(0))
        .map(
            d ->
                ((io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot) d)
                    .getValue())
        .orElse(Double.NaN);
  }

  @Test
  void the_calibrated_population_does_not_drift() throws Exception {
    capture(2_000, 0);
    tick(1_000);
    tick(2_000);

    assertTrue(started.isEmpty(), view().encodePrettily());
    assertTrue(view().getString("last_action").startsWith("no drift"), view().encodePrettily());
    assertTrue(psiMax() < 0.2, "PSI max " + psiMax());
  }

  @Test
  void a_few_rows_are_not_enough_to_measure_drift() throws Exception {
    capture(100, 3.0);
    tick(1_000);

    assertTrue(started.isEmpty());
    assertTrue(
        view().getString("last_action").endsWith("500 needed to measure drift"),
        view().encodePrettily());
    assertTrue(Double.isNaN(psiMax()), "no PSI exported from 100 rows");
  }

  @Test
  void a_shifted_population_starts_one_recalibration_on_rows_of_the_new_distribution()
      throws Exception {
    capture(500, 1.5);
    tick(1_000);
    assertTrue(psiMax() > 0.2, "PSI max " + psiMax());
    // The drift was just seen: the rows before it do not count as the new distribution yet.
    assertTrue(started.isEmpty(), view().encodePrettily());
    assertTrue(
        view().getString("last_action").contains("rows captured since the drift was seen"),
        view().encodePrettily());

    now.addAndGet(1_000);
    capture(500, 1.5);
    tick(1_000);

    assertEquals(1, started.size(), view().encodePrettily());
    List<String> args = started.get(0).arguments();
    assertEquals("quantize", started.get(0).command());
    assertEquals("mlp:1", args.get(args.indexOf("--model") + 1));
    assertEquals("mlp-int8", args.get(args.indexOf("--name") + 1));
    assertTrue(args.contains("--no-speed-check"), args.toString());
    Path data = Path.of(args.get(args.indexOf("--data") + 1));
    assertEquals(500, RowsReader.readAll(data, 0).size(), "the newest window of rows, frozen");
    JobSpec.Canary canary = jobs.list().get(0).spec().canary();
    assertEquals("ab", canary.experiment());
    assertEquals(10, canary.weight());

    // Still drifting while the job runs: never a second job for the model.
    capture(500, 1.5);
    tick(1_000);
    tick(1_000);
    assertEquals(1, started.size());
    assertTrue(view().getString("last_action").startsWith("waiting for job"));
  }

  @Test
  void a_failed_recalibration_publishes_nothing_and_the_cool_down_holds_the_next()
      throws Exception {
    capture(500, 1.5);
    tick(1_000);
    now.addAndGet(1_000);
    capture(500, 1.5);
    tick(1_000);
    assertEquals(1, started.size());
    listeners.get(0).failed("accuracy gate: AUC 0.61 vs 0.70, max drop 0.01");
    assertEquals(1, store.versions("mlp-int8").size(), "nothing published");

    now.addAndGet(1_000);
    capture(500, 1.5);
    tick(1_000);
    assertEquals(1, started.size());
    assertTrue(view().getString("last_action").startsWith("cooling down"), view().encodePrettily());

    tick(60_000);
    assertEquals(2, started.size(), "after the cool-down, the drift still calls for a job");
  }

  @Test
  void a_job_already_running_for_the_source_is_respected() throws Exception {
    jobs.submit(
        JobSpec.fromJson(
            new JsonObject()
                .put("source", "mlp")
                .put("action", "quantize")
                .put("name", "mlp-manual")
                .put("rows", "calibration.jsonl")
                .put("options", new JsonObject().put("speed-check", false))));
    capture(500, 1.5);
    tick(1_000);
    now.addAndGet(1_000);
    capture(500, 1.5);
    tick(1_000);

    assertEquals(1, started.size(), "only the manual job");
    assertTrue(
        view().getString("last_action").startsWith("job refused: source: a job for 'mlp'"),
        view().encodePrettily());
  }

  @Test
  void policies_are_checked_and_kept_across_restarts() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RecalibrationPolicy.fromJson(new JsonObject().put("model", "m").put("psi", 1)));
    assertTrue(e.getMessage().startsWith("policy: unknown key 'psi'"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RecalibrationPolicy.fromJson(
                    new JsonObject().put("model", "m").put("min_rows", 10)));
    assertEquals("min_rows: 10 (expected: an integer from 100 to 10000000)", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RecalibrationPolicy.fromJson(
                    new JsonObject().put("model", "m").put("rows", "rows/x.jsonl")));
    assertTrue(e.getMessage().startsWith("rows: rows/x.jsonl (expected: the capture stream"));

    PolicyService again =
        new PolicyService(
            store,
            jobs,
            new DriftMonitor(store, new PrometheusRegistry()),
            new PrometheusRegistry(),
            List.of(),
            now::get);
    again.start();
    assertEquals(
        view().getJsonObject("policy"), again.list().getJsonObject(0).getJsonObject("policy"));
    assertTrue(again.remove("mlp-int8"));
    PolicyService third =
        new PolicyService(
            store,
            jobs,
            new DriftMonitor(store, new PrometheusRegistry()),
            new PrometheusRegistry(),
            List.of(),
            now::get);
    third.start();
    assertEquals(0, third.list().size());
  }
}
