package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.ModelStore;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real quantize job in a child JVM (the test class path passed through CLASSPATH), beside the
 * in-process runner.
 */
class ChildProcessJobRunnerTest {

  @TempDir Path dir;

  /** Collects what a runner reports; {@link #outcome} completes with the final word. */
  static final class Recorder implements JobRunner.Listener {
    final List<String> stages = new CopyOnWriteArrayList<>();
    final List<Double> fractions = new CopyOnWriteArrayList<>();
    final CompletableFuture<String> outcome = new CompletableFuture<>();
    volatile JsonObject summary;

    @Override
    public void progress(String stage, double fraction) {
      if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(stage)) {
        stages.add(stage);
      }
      fractions.add(fraction);
    }

    @Override
    public void succeeded(JsonObject s) {
      summary = s;
      outcome.complete("succeeded");
    }

    @Override
    public void failed(String error) {
      outcome.complete("failed: " + error);
    }

    @Override
    public void cancelled(String stage) {
      outcome.complete("cancelled: " + stage);
    }
  }

  private JobRunner.Task task(ModelStore store, String name, String... options) throws Exception {
    JsonObject body = JobFixtures.quantizeBody(name);
    for (int i = 0; i < options.length; i += 2) {
      body.getJsonObject("options").put(options[i], options[i + 1]);
    }
    JobSpec spec = JobSpec.fromJson(body);
    return JobArguments.task("t-" + name, spec, store.root(), "mlp:1", spec.rowsPath(store.root()));
  }

  private static long run(JobRunner runner, JobRunner.Task task, Recorder r) throws Exception {
    long t0 = System.nanoTime();
    runner.start(task, r);
    String outcome = r.outcome.get(60, TimeUnit.SECONDS);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals("succeeded", outcome);
    return millis;
  }

  @Test
  void a_child_jvm_runs_the_job_reports_progress_and_publishes() throws Exception {
    ModelStore store = JobFixtures.store(dir.resolve("store"));
    JobFixtures.rows(store.root().resolve("rows/mlp.jsonl"), 400);
    JobRunner child =
        new ChildProcessJobRunner(ChildProcessJobRunner.currentClassPath(), List.of("-Xmx256m"));
    JobRunner inProcess = new InProcessJobRunner();
    try {
      Recorder c = new Recorder();
      long childMillis = run(child, task(store, "mlp-child"), c);
      Recorder p = new Recorder();
      long inProcessMillis = run(inProcess, task(store, "mlp-inproc"), p);
      System.out.printf(
          "quantize of the tiny mlp, 400 rows: child JVM %d ms, in-process %d ms%n",
          childMillis, inProcessMillis);

      assertEquals("mlp-child:1", c.summary.getString("published"));
      assertEquals("mlp:1", store.resolve("mlp-child").manifest().parent());
      assertTrue(
          c.stages.containsAll(List.of("read", "calibrate", "evaluate")), c.stages.toString());
      assertEquals(p.stages, c.stages, "both runners report the same stages");
      for (int i = 1; i < c.fractions.size(); i++) {
        assertTrue(c.fractions.get(i) >= c.fractions.get(i - 1), c.fractions.toString());
      }
      assertEquals(c.summary.fieldNames(), p.summary.fieldNames());
    } finally {
      child.close();
      inProcess.close();
    }
  }

  @Test
  void a_failing_child_reports_the_commands_own_reason() throws Exception {
    ModelStore store = JobFixtures.store(dir.resolve("store"));
    JobFixtures.rows(store.root().resolve("rows/mlp.jsonl"), 400);
    store.remove("mlp", 1); // gone between acceptance and run
    JobRunner child =
        new ChildProcessJobRunner(ChildProcessJobRunner.currentClassPath(), List.of());
    try {
      Recorder r = new Recorder();
      child.start(task(store, "mlp-int8"), r);
      String outcome = r.outcome.get(60, TimeUnit.SECONDS);
      assertTrue(outcome.startsWith("failed: model 'mlp' not found in store"), outcome);
      assertEquals(List.of("mlp-small"), store.modelNames());
    } finally {
      child.close();
    }
  }

  @Test
  void a_child_stops_when_its_parent_goes_away() throws Exception {
    ModelStore store = JobFixtures.store(dir.resolve("store"));
    Path fifo = store.root().resolve("rows.fifo");
    Assumptions.assumeTrue(
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
    // Reading rows from a FIFO nobody writes blocks the job forever: only the parent watch can end
    // it.
    JobRunner.Task task =
        new JobRunner.Task(
            "t",
            "distill",
            List.of(
                "--store",
                store.root().toString(),
                "--teacher",
                "mlp:1",
                "--data",
                fifo.toString(),
                "--name",
                "s"));
    ProcessBuilder pb =
        new ProcessBuilder(new ChildProcessJobRunner("", List.of()).commandLine(task))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("CLASSPATH", ChildProcessJobRunner.currentClassPath());
    Process child = pb.start();
    try {
      child.getOutputStream().close(); // what the OS does to the pipe when the gateway dies
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child exited");
      assertEquals(143, child.exitValue());
      assertEquals(List.of("mlp", "mlp-small"), store.modelNames());
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void the_error_is_the_commands_last_word_else_the_tail() {
    ArrayDeque<String> tail = new ArrayDeque<>(List.of("x", "quantize: gate failed", "table"));
    assertEquals("gate failed", ChildProcessJobRunner.reason("quantize", 1, tail));
    assertEquals(
        "quantize exited with status 134: a | b",
        ChildProcessJobRunner.reason("quantize", 134, new ArrayDeque<>(List.of("a", "b"))));
  }

  @Test
  void the_child_runs_niced_on_one_processor_with_the_class_path_in_its_environment() {
    ChildProcessJobRunner runner = new ChildProcessJobRunner("/a.jar", List.of("-Xmx1g"));
    List<String> cmd =
        runner.commandLine(new JobRunner.Task("id", "quantize", List.of("--store", "/s")));
    assertTrue(cmd.contains("-XX:ActiveProcessorCount=1"), cmd.toString());
    assertTrue(cmd.contains("-Xmx1g"), cmd.toString());
    assertTrue(
        !cmd.contains("-cp")
            && !cmd.contains("-classpath")
            && !String.join(" ", cmd).contains("/a.jar"),
        cmd.toString());
    assertEquals(
        List.of(ChildMain.class.getName(), "quantize", "--store", "/s", "--progress-json"),
        cmd.subList(cmd.size() - 5, cmd.size()));
  }
}
