package ai.distill.gateway.jobs;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Runs one optimizer job off the serving path and reports back. Two mechanisms fill this role:
 * {@link ChildProcessJobRunner} (a child JVM at low CPU priority, the default) and {@link
 * InProcessJobRunner} (a low-priority daemon thread); {@link #create(JobsConfig)} picks one from
 * the configuration and callers never learn which they have. Both take the same {@link Task} (the
 * CLI command and its arguments) and report through the same {@link Listener}. Implementations are
 * thread-safe; {@link #close()} stops whatever still runs.
 *
 * <pre>{@code
 * JobRunner runner = JobRunner.create(JobsConfig.DEFAULT);
 * JobRunner.Execution e = runner.start(task, listener);
 * e.cancel();   // the listener then hears cancelled(...), or succeeded(...) if it had already published
 * }</pre>
 */
public interface JobRunner extends AutoCloseable {

  /**
   * One job as the CLI would run it.
   *
   * @param id the job id (for thread names and logs)
   * @param command the CLI subcommand, {@code quantize} or {@code distill}
   * @param arguments its arguments, e.g. {@code --store /s --model ctr:1 --data /s/captures/ctr
   *     --name ctr-int8}
   */
  record Task(String id, String command, List<String> arguments) {
    public Task {
      arguments = List.copyOf(arguments);
    }
  }

  /**
   * Hears a job's progress and its one outcome. Called on the runner's own threads (never an event
   * loop); exactly one of {@code succeeded}, {@code failed}, {@code cancelled} is called, last.
   */
  interface Listener {
    /** A step of the job: its stage name and the share of the job done so far. */
    void progress(String stage, double fraction);

    /** The job published; {@code summary} is its one-line JSON summary. */
    void succeeded(JsonObject summary);

    /** The job failed and published nothing. */
    void failed(String error);

    /** The job stopped on request and published nothing. */
    void cancelled(String stage);
  }

  /** A started job. */
  interface Execution {
    /** Asks the job to stop (idempotent); the listener hears the outcome. */
    void cancel();
  }

  /** Starts {@code task}; the outcome comes to {@code listener}. Never blocks for the job. */
  Execution start(Task task, Listener listener);

  /** Stops every job still running (they report {@code cancelled} or {@code failed}). */
  @Override
  void close();

  /** The runner the configuration asks for. */
  static JobRunner create(JobsConfig config) {
    return switch (config.runner()) {
      case CHILD ->
          new ChildProcessJobRunner(
              ChildProcessJobRunner.currentClassPath(), config.childJvmOptions());
      case IN_PROCESS -> new InProcessJobRunner();
    };
  }
}
