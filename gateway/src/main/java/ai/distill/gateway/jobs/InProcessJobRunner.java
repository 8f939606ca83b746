package ai.distill.gateway.jobs;

import ai.distill.optimizer.distill.DistillJob;
import ai.distill.optimizer.distill.DistillOptions;
import ai.distill.optimizer.job.JobCancelledException;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.quant.CalibrationMethod;
import ai.distill.optimizer.quant.QuantMath.QType;
import ai.distill.optimizer.quant.QuantizeJob;
import ai.distill.optimizer.quant.QuantizeOptions;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.store.ModelStore;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Runs jobs inside the gateway on one daemon thread at the lowest Java priority, calling {@link
 * QuantizeJob} and {@link DistillJob} with a {@link ProgressListener} that reports progress and
 * honours cancel between steps. The task's CLI arguments are parsed by the CLI command itself, so
 * both runners read the same options with the same defaults; in-process, ONNX Runtime and the
 * trainer default to one thread. Jobs run one after another. Thread-safe.
 */
final class InProcessJobRunner implements JobRunner {

  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "distill-job");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            return t;
          });
  private final Set<AtomicBoolean> running = ConcurrentHashMap.newKeySet();

  @Override
  public Execution start(Task task, Listener listener) {
    AtomicBoolean cancel = new AtomicBoolean();
    running.add(cancel);
    try {
      thread.execute(
          () -> {
            try {
              run(task, listener, cancel);
            } finally {
              running.remove(cancel);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      running.remove(cancel);
      listener.failed("the job runner is closed");
    }
    return () -> cancel.set(true);
  }

  private static void run(Task task, Listener listener, AtomicBoolean cancel) {
    String[] stage = {"start"};
    ProgressListener progress =
        new ProgressListener() {
          @Override
          public void progress(String s, double fraction, String message) {
            stage[0] = s;
            listener.progress(s, fraction);
          }

          @Override
          public boolean cancelRequested() {
            return cancel.get();
          }
        };
    JsonObject summary;
    try {
      progress.checkCancelled("start");
      summary =
          switch (task.command()) {
            case "quantize" -> quantize(task, progress);
            case "distill" -> distill(task, progress);
            default -> throw new IllegalArgumentException("unknown job command " + task.command());
          };
    } catch (JobCancelledException e) {
      listener.cancelled(e.stage());
      return;
    } catch (Throwable e) {
      listener.failed(e.getMessage() != null ? e.getMessage() : e.toString());
      if (e instanceof Error error && !(e instanceof OutOfMemoryError)) {
        throw error;
      }
      return;
    }
    listener.succeeded(summary);
  }

  private static JsonObject quantize(Task task, ProgressListener progress) {
    CommandSpec o = parse(task);
    QuantizeOptions options =
        QuantizeOptions.builder()
            .method(CalibrationMethod.parse(o.findOption("method").getValue()))
            .percentile(o.findOption("percentile").getValue())
            .perChannel(o.findOption("per-channel").getValue())
            .symmetricActivations(o.findOption("symmetric").getValue())
            .activationType(
                o.findOption("int8-activations").<Boolean>getValue() ? QType.INT8 : QType.UINT8)
            .reduceRange(o.findOption("reduce-range").getValue())
            .dynamic(o.findOption("dynamic").getValue())
            .maxAucDrop(o.findOption("max-auc-drop").getValue())
            .maxMeanShift(o.findOption("max-mean-shift").getValue())
            .maxFallbacks(o.findOption("max-fallbacks").getValue())
            .calibrationRows(o.findOption("calibration-rows").getValue())
            .heldOutRows(o.findOption("held-out-rows").getValue())
            .threads(o.findOption("threads").getValue())
            .speedCheck(o.findOption("speed-check").getValue())
            .force(o.findOption("force").getValue())
            .build();
    QuantizeJob.Outcome outcome =
        QuantizeJob.run(
            ModelStore.open(o.findOption("store").getValue()),
            new QuantizeJob.Request(
                o.findOption("model").getValue(),
                o.findOption("data").getValue(),
                o.findOption("name").getValue(),
                options),
            progress);
    return json(outcome.summary());
  }

  private static JsonObject distill(Task task, ProgressListener progress) {
    CommandSpec o = parse(task);
    Integer threads = o.findOption("threads").getValue();
    StudentConfig student =
        StudentConfig.defaults()
            .withHidden(o.findOption("hidden").<int[]>getValue())
            .withEmbeddingDim(o.findOption("embedding-dim").getValue())
            .withEpochs(o.findOption("epochs").getValue())
            .withBatchSize(o.findOption("batch").getValue())
            .withLearningRate(o.findOption("learning-rate").getValue())
            .withPatience(o.findOption("patience").getValue())
            .withSeed(o.findOption("seed").getValue())
            .withFakeQuant(o.findOption("qat").getValue())
            .withThreads(
                threads == null ? 1 : threads); // in the gateway's JVM: one core unless asked
    DistillOptions options =
        DistillOptions.defaults()
            .withStudent(student)
            .withTemperature(o.findOption("temperature").getValue())
            .withAlpha(o.findOption("alpha").getValue())
            .withTeacherThreads(1);
    ModelStore store = ModelStore.open(o.findOption("store").getValue());
    String teacher = store.verify(store.resolve(o.findOption("teacher").getValue())).id();
    Path data = o.findOption("data").getValue();
    Path eval = o.findOption("eval").getValue();
    DistillJob.Outcome outcome =
        DistillJob.run(
            store,
            new DistillJob.Request(
                teacher,
                data,
                0,
                eval,
                o.findOption("max-rows").getValue(),
                o.findOption("name").getValue(),
                options,
                o.findOption("int8").getValue()),
            progress);
    return json(outcome.summary());
  }

  private static CommandSpec parse(Task task) {
    CommandLine cli = ChildMain.command(task.command());
    cli.parseArgs(task.arguments().toArray(String[]::new));
    return cli.getCommandSpec();
  }

  // Through Vert.x's codec so that the summary reads the same as a child's parsed JSON line.
  private static JsonObject json(Map<String, Object> summary) {
    return new JsonObject(new JsonObject(new LinkedHashMap<>(summary)).encode());
  }

  @Override
  public void close() {
    for (AtomicBoolean c : running) {
      c.set(true);
    }
    thread.shutdown();
  }
}
