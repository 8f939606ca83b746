package ai.distill.gateway.jobs;

import static ai.distill.gateway.jobs.JobValidation.result;
import static ai.distill.gateway.jobs.JobValidation.sourceName;

import ai.distill.gateway.jobs.JobRecord.State;
import ai.distill.gateway.jobs.JobRejectedException.Reason;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Accepts, queues, runs and remembers optimizer jobs. A request is checked up front (unknown
 * source: 404; an action the source cannot take, bad options or too few captured rows: 400), then
 * queued (bounded: a full queue is refused, 429); at most one job per source model is queued or
 * running at a time (a second is refused, 409), and queued jobs run one at a time, in order, on the
 * {@link JobRunner}. Every state change is persisted as {@code <store>/jobs/<id>.json}; on {@link
 * #start()}, records left {@code queued} or {@code running} by a previous process become {@code
 * interrupted}. A successful job with a canary calls the {@link CanaryHook}.
 *
 * <pre>{@code
 * JobService jobs = new JobService(store, JobsConfig.DEFAULT, JobRunner.create(JobsConfig.DEFAULT),
 *     CanaryHook.NONE, JobMetrics.register(registry), Clock.systemUTC());
 * jobs.start();
 * JobRecord r = jobs.submit(JobSpec.fromJson(body));   // throws JobRejectedException
 * jobs.get(r.id()); jobs.cancel(r.id()); jobs.close();
 * }</pre>
 *
 * <p>Thread-safe. Every method may touch the disk: call them off event loops. Owns the runner and
 * closes it.
 */
public final class JobService implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(JobService.class.getName());

  /** How long {@link #close()} waits for a running job to stop. */
  static final long CLOSE_WAIT_MILLIS = ChildProcessJobRunner.KILL_GRACE.toMillis() + 2_000;

  private final ModelStore store;
  private final JobsConfig config;
  private final JobRunner runner;
  private final CanaryHook canary;
  private final JobMetrics metrics;
  private final Clock clock;
  private final JobRepository repository;

  private final Object lock = new Object();
  private final Map<String, JobRecord> records = new HashMap<>();
  private final ArrayDeque<String> queue = new ArrayDeque<>();
  private final Map<String, JobRunner.Task> tasks = new HashMap<>();

  /** Source model name → the id of its queued or running job. */
  private final Map<String, String> activeBySource = new HashMap<>();

  private String runningId;
  private JobRunner.Execution execution;
  private boolean cancelRunning;
  private boolean closed;
  private volatile ExternalRows externalRows = ExternalRows.NONE;

  public JobService(
      ModelStore store,
      JobsConfig config,
      JobRunner runner,
      CanaryHook canary,
      JobMetrics metrics,
      Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.config = Objects.requireNonNull(config, "config");
    this.runner = Objects.requireNonNull(runner, "runner");
    this.canary = canary == null ? CanaryHook.NONE : canary;
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = clock == null ? Clock.systemUTC() : clock;
    this.repository = new JobRepository(config.recordsDir(store.root()));
  }

  /** Where {@code "rows": "kafka://..."} (a URI) is read from. */
  public void externalRows(ExternalRows rows) {
    this.externalRows = rows;
  }

  /**
   * Loads the persisted records; those a previous process left queued or running become
   * interrupted.
   */
  public void start() {
    List<JobRecord> loaded = repository.loadAll();
    List<JobRecord> interrupted = new ArrayList<>();
    synchronized (lock) {
      for (JobRecord r : loaded) {
        if (!r.state().isFinal()) {
          r =
              r.ended(
                  State.INTERRUPTED,
                  "the gateway stopped while the job was "
                      + r.state().jsonName()
                      + "; nothing of it was published (submit it again to rerun it)",
                  clock.instant());
          interrupted.add(r);
        }
        records.put(r.id(), r);
      }
    }
    for (JobRecord r : interrupted) {
      repository.save(r);
      metrics.ended(r.spec().action(), State.INTERRUPTED);
      LOG.log(
          System.Logger.Level.WARNING,
          "job {0} ({1} {2}) was interrupted by a restart",
          r.id(),
          r.spec().action().jsonName(),
          r.spec().source());
    }
  }

  /**
   * Checks and queues a job.
   *
   * @throws JobRejectedException with the reason the job cannot be accepted
   */
  public JobRecord submit(JobSpec spec) {
    String id = JobValidation.newId(clock.instant());
    JobValidation.Accepted accepted =
        JobValidation.check(store, config.recordsDir(store.root()), spec, id, externalRows);
    ModelVersion source = accepted.source();
    JobRunner.Task task = accepted.task();
    JobRecord record;
    synchronized (lock) {
      if (closed) {
        throw new JobRejectedException(
            Reason.CONFLICT,
            "the gateway is shutting down; submit the job again " + "once it is back");
      }
      String active = activeBySource.get(source.name());
      if (active != null) {
        throw JobValidation.busy(source.name(), active, records.get(active).state());
      }
      if (queue.size() >= config.queueCapacity()) {
        throw JobValidation.queueFull(queue.size(), config.queueCapacity());
      }
      record = JobRecord.queued(id, spec, source.id(), clock.instant());
      records.put(id, record);
      queue.addLast(id);
      tasks.put(id, task);
      activeBySource.put(source.name(), id);
    }
    persist(id);
    LOG.log(
        System.Logger.Level.INFO,
        "job {0} queued: {1} {2} -> {3}",
        id,
        spec.action().jsonName(),
        source.id(),
        spec.name());
    dispatch();
    return get(id);
  }

  /** Every job known, newest first. */
  public List<JobRecord> list() {
    List<JobRecord> all;
    synchronized (lock) {
      all = new ArrayList<>(records.values());
    }
    all.sort(JobRepository.NEWEST_FIRST);
    return all;
  }

  /**
   * One job.
   *
   * @throws JobRejectedException (not found) for an unknown id
   */
  public JobRecord get(String id) {
    synchronized (lock) {
      JobRecord r = records.get(id);
      if (r == null) {
        throw new JobRejectedException(
            Reason.NOT_FOUND,
            "job '" + id + "' is unknown (GET /admin/v1/jobs " + "lists the jobs)");
      }
      return r;
    }
  }

  /**
   * Cancels a queued job at once, or asks a running one to stop (it ends {@code cancelled}, or
   * {@code succeeded} if it had already published).
   *
   * @throws JobRejectedException unknown id (not found) or a job that already ended (conflict)
   */
  public JobRecord cancel(String id) {
    JobRunner.Execution toCancel = null;
    boolean dequeued = false;
    synchronized (lock) {
      JobRecord r = get(id);
      if (r.state().isFinal()) {
        throw new JobRejectedException(
            Reason.CONFLICT,
            "job "
                + id
                + " already ended: "
                + r.state().jsonName()
                + (r.finished() == null ? "" : " at " + r.finished()));
      }
      if (r.state() == State.QUEUED) {
        queue.remove(id);
        tasks.remove(id);
        activeBySource.remove(sourceName(r), id);
        records.put(id, r.ended(State.CANCELLED, "cancelled before it started", clock.instant()));
        dequeued = true;
      } else {
        cancelRunning = true;
        toCancel = id.equals(runningId) ? execution : null;
      }
    }
    if (dequeued) {
      metrics.ended(get(id).spec().action(), State.CANCELLED);
      persist(id);
    }
    if (toCancel != null) {
      toCancel.cancel();
    }
    LOG.log(System.Logger.Level.INFO, "job {0}: cancel requested", id);
    return get(id);
  }

  /**
   * Stops taking jobs, stops the running one (it ends {@code interrupted}) and marks queued ones
   * {@code interrupted}; waits a few seconds for the running job to stop.
   */
  @Override
  public void close() {
    List<String> dropped;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      dropped = new ArrayList<>(queue);
      for (String id : dropped) {
        records.put(
            id,
            records
                .get(id)
                .ended(
                    State.INTERRUPTED,
                    "the gateway stopped before the job ran " + "(submit it again to run it)",
                    clock.instant()));
        activeBySource.remove(sourceName(records.get(id)), id);
      }
      queue.clear();
      tasks.clear();
    }
    for (String id : dropped) {
      metrics.ended(get(id).spec().action(), State.INTERRUPTED);
      persist(id);
    }
    runner.close();
    long deadline = System.currentTimeMillis() + CLOSE_WAIT_MILLIS;
    synchronized (lock) {
      while (runningId != null && System.currentTimeMillis() < deadline) {
        try {
          lock.wait(Math.max(1, deadline - System.currentTimeMillis()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
  }

  // ---- running ---------------------------------------------------------------------------------

  private void dispatch() {
    String id;
    JobRunner.Task task;
    JobRecord started;
    synchronized (lock) {
      if (closed || runningId != null || queue.isEmpty()) {
        return;
      }
      id = queue.pollFirst();
      task = tasks.remove(id);
      started = records.get(id).running(clock.instant());
      records.put(id, started);
      runningId = id;
      execution = null;
      cancelRunning = false;
    }
    metrics.running(sourceName(started), true);
    persist(id);
    LOG.log(
        System.Logger.Level.INFO, "job {0} started: {1} {2}", id, task.command(), task.arguments());
    JobRunner.Execution e = runner.start(task, new Listener(id));
    boolean cancelNow;
    synchronized (lock) {
      boolean stillRunning = id.equals(runningId);
      if (stillRunning) {
        execution = e;
      }
      cancelNow = stillRunning && cancelRunning;
    }
    if (cancelNow) {
      e.cancel();
    }
  }

  /** Hears one job's runner; called on the runner's threads. */
  private final class Listener implements JobRunner.Listener {
    private final String id;
    private boolean done;

    Listener(String id) {
      this.id = id;
    }

    @Override
    public void progress(String stage, double fraction) {
      boolean newStage;
      synchronized (lock) {
        JobRecord r = records.get(id);
        if (done || r == null || r.state() != State.RUNNING) {
          return;
        }
        newStage = !stage.equals(r.stage());
        records.put(id, r.progressed(stage, fraction));
      }
      if (newStage) {
        persist(id); // once per stage: a handful of writes per job, not one per step
      }
    }

    @Override
    public void succeeded(JsonObject summary) {
      JobRecord.Result result;
      try {
        result = result(get(id).spec().action(), summary);
      } catch (RuntimeException e) {
        failed(
            "the job finished but its summary is unreadable ("
                + e.getMessage()
                + "): "
                + summary.encode());
        return;
      }
      JobRecord r = finish(rec -> rec.succeeded(result, clock.instant()));
      if (r != null && r.spec().canary() != null) {
        requestCanary(r);
      }
    }

    @Override
    public void failed(String error) {
      finish(
          rec -> {
            if (closedNow()) {
              return rec.ended(
                  State.INTERRUPTED,
                  "the gateway stopped while the job ran: " + error,
                  clock.instant());
            }
            return cancelRequested()
                ? rec.ended(
                    State.CANCELLED,
                    "cancelled (" + error + "); nothing was published",
                    clock.instant())
                : rec.ended(State.FAILED, error, clock.instant());
          });
    }

    @Override
    public void cancelled(String stage) {
      finish(
          rec ->
              closedNow() && !cancelRequested()
                  ? rec.ended(
                      State.INTERRUPTED,
                      "the gateway stopped while the job ran (during "
                          + stage
                          + "); nothing was published",
                      clock.instant())
                  : rec.ended(
                      State.CANCELLED,
                      "cancelled during " + stage + "; nothing was published",
                      clock.instant()));
    }

    private JobRecord finish(java.util.function.UnaryOperator<JobRecord> change) {
      JobRecord ended;
      synchronized (lock) {
        JobRecord r = records.get(id);
        if (done || r == null || r.state().isFinal()) {
          return null;
        }
        done = true;
        ended = change.apply(r);
        records.put(id, ended);
        activeBySource.remove(sourceName(ended), id);
        if (id.equals(runningId)) {
          runningId = null;
          execution = null;
        }
        lock.notifyAll();
      }
      metrics.running(sourceName(ended), false);
      metrics.ended(ended.spec().action(), ended.state());
      persist(id);
      repository.deleteRowsCopy(id);
      LOG.log(
          System.Logger.Level.INFO,
          "job {0} {1}{2}",
          id,
          ended.state().jsonName(),
          ended.error() == null ? "" : ": " + ended.error());
      dispatch();
      return ended;
    }
  }

  private boolean closedNow() {
    synchronized (lock) {
      return closed;
    }
  }

  private boolean cancelRequested() {
    synchronized (lock) {
      return cancelRunning;
    }
  }

  private void requestCanary(JobRecord r) {
    JobSpec.Canary c = r.spec().canary();
    io.vertx.core.Future<Void> f;
    try {
      f =
          canary.canary(
              c.experiment(), sourceName(r), r.result().model(), r.result().version(), c.weight());
    } catch (RuntimeException e) {
      f = io.vertx.core.Future.failedFuture(e);
    }
    // The future may complete on an event loop: the record is written on a thread of its own.
    f.onComplete(
        ar -> {
          Thread t =
              new Thread(
                  () -> {
                    String status = ar.succeeded() ? "done" : "failed: " + ar.cause().getMessage();
                    synchronized (lock) {
                      records.put(r.id(), records.get(r.id()).withCanaryStatus(status));
                    }
                    persist(r.id());
                    LOG.log(
                        ar.succeeded() ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                        "job {0}: canary of {1}:{2} in {3} at weight {4}: {5}",
                        r.id(),
                        r.result().model(),
                        r.result().version(),
                        c.experiment(),
                        c.weight(),
                        status);
                  },
                  "distill-job-canary");
          t.setDaemon(true);
          t.start();
        });
  }

  // Reads the newest state inside the repository's lock, so the last write carries the latest.
  // A failed write is logged, never thrown: the job goes on, and the next change writes again.
  private void persist(String id) {
    try {
      synchronized (repository) {
        JobRecord r;
        synchronized (lock) {
          r = records.get(id);
        }
        repository.save(r);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot persist job " + id, e);
    }
  }

  /** The runner's configuration. */
  public JobsConfig config() {
    return config;
  }
}
