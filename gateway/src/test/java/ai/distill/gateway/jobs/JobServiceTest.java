package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.jobs.JobRecord.State;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Queueing, one job per source, persistence and restart recovery, with a runner the test holds. */
class JobServiceTest {

  @TempDir Path dir;

  private ModelStore store;

  @BeforeEach
  void setUp() throws Exception {
    store = JobFixtures.store(dir);
    store.publish(
        PublishRequest.fromBytes(
            "other", TinyModels.mlp(4, new int[] {8}, 5).toBytes(), Role.TEACHER));
    JobFixtures.rows(dir.resolve("rows/mlp.jsonl"), 50);
  }

  private JobService service(JobRunner runner, int capacity) {
    JobService s =
        new JobService(
            store,
            JobsConfig.DEFAULT.withQueueCapacity(capacity),
            runner,
            CanaryHook.NONE,
            JobMetrics.register(new PrometheusRegistry()),
            Clock.systemUTC());
    s.start();
    return s;
  }

  private static JobSpec spec(String source, String name) {
    return JobSpec.fromJson(JobFixtures.quantizeBody(name).put("source", source));
  }

  private JsonObject onDisk(String id) throws Exception {
    return new JsonObject(Files.readString(dir.resolve("jobs/" + id + ".json")));
  }

  @Test
  void a_restart_turns_running_and_queued_records_into_interrupted() throws Exception {
    JobService before = service(new JobFixtures.HeldRunner(), 8);
    JobRecord running = before.submit(spec("mlp", "mlp-int8"));
    JobRecord queued = before.submit(spec("other", "other-int8"));
    assertEquals("running", onDisk(running.id()).getString("state"));
    assertEquals("queued", onDisk(queued.id()).getString("state"));

    // the first process dies without closing; a new one starts on the same store
    JobService after = service(new JobFixtures.HeldRunner(), 8);
    assertEquals(State.INTERRUPTED, after.get(running.id()).state());
    assertEquals(State.INTERRUPTED, after.get(queued.id()).state());
    assertEquals("interrupted", onDisk(running.id()).getString("state"));
    assertTrue(
        onDisk(running.id())
            .getString("error")
            .contains("the gateway stopped while the job was running"));
    assertEquals(
        List.of(queued.id(), running.id()), after.list().stream().map(JobRecord::id).toList());
    // the interrupted job no longer blocks its source
    assertEquals(State.RUNNING, after.submit(spec("mlp", "mlp-int8")).state());
  }

  @Test
  void a_full_queue_refuses_and_queued_jobs_run_in_order() {
    JobFixtures.HeldRunner runner = new JobFixtures.HeldRunner();
    JobService jobs = service(runner, 1);
    JobRecord first = jobs.submit(spec("mlp", "mlp-int8"));
    JobRecord second = jobs.submit(spec("mlp-small", "small-int8"));
    assertEquals(State.QUEUED, second.state());
    JobRejectedException full =
        assertThrows(JobRejectedException.class, () -> jobs.submit(spec("other", "o8")));
    assertEquals(JobRejectedException.Reason.QUEUE_FULL, full.reason());
    assertTrue(
        full.getMessage()
            .startsWith("the job queue is full (1 jobs waiting, jobs.queue_capacity 1)"),
        full.getMessage());

    jobs.cancel(first.id());
    assertEquals(State.CANCELLED, jobs.get(first.id()).state());
    assertEquals(State.RUNNING, jobs.get(second.id()).state());
    assertEquals(2, runner.starts.get());
  }

  @Test
  void cancelling_a_queued_job_removes_it_and_frees_its_source() {
    JobFixtures.HeldRunner runner = new JobFixtures.HeldRunner();
    JobService jobs = service(runner, 4);
    jobs.submit(spec("mlp", "mlp-int8"));
    JobRecord queued = jobs.submit(spec("other", "other-int8"));
    assertEquals(State.CANCELLED, jobs.cancel(queued.id()).state());
    assertEquals(State.QUEUED, jobs.submit(spec("other", "other-int8")).state());
    assertEquals(1, runner.starts.get());
  }

  @Test
  void closing_interrupts_the_running_job_and_the_queue() throws Exception {
    JobService jobs = service(new JobFixtures.HeldRunner(), 4);
    JobRecord running = jobs.submit(spec("mlp", "mlp-int8"));
    JobRecord queued = jobs.submit(spec("other", "other-int8"));
    jobs.close();
    assertEquals("interrupted", onDisk(running.id()).getString("state"));
    assertEquals("interrupted", onDisk(queued.id()).getString("state"));
  }

  @Test
  void the_result_names_the_model_to_serve() {
    JsonObject summary =
        new JsonObject()
            .put("student", "s:3")
            .put("int8_student", "s-int8:2")
            .put("published", "q:7");
    assertEquals("s-int8", JobValidation.result(JobSpec.Action.DISTILL_QUANTIZE, summary).model());
    assertEquals(3, JobValidation.result(JobSpec.Action.DISTILL, summary).version());
    assertEquals("q", JobValidation.result(JobSpec.Action.QUANTIZE, summary).model());
  }
}
