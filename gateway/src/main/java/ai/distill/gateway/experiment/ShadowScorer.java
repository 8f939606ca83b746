package ai.distill.gateway.experiment;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Scores a share of student-served requests with the teacher, off the response path: the work is
 * handed to {@code dispatch} after the response is built, and at most {@code maxInFlight} shadow
 * requests run at once (the rest are dropped and counted), so shadow scoring neither delays nor
 * queues behind serving. The agreement goes to the experiment's {@link ShadowAgreement}.
 * Thread-safe.
 */
public final class ShadowScorer {

  private final VariantInvoker invoker;
  private final Executor dispatch;
  private final Semaphore permits;
  private final LongAdder scored = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder failed = new LongAdder();

  private final ExperimentMetrics metrics;

  public ShadowScorer(VariantInvoker invoker, Executor dispatch, int maxInFlight) {
    this(invoker, dispatch, maxInFlight, null);
  }

  public ShadowScorer(
      VariantInvoker invoker, Executor dispatch, int maxInFlight, ExperimentMetrics metrics) {
    if (maxInFlight <= 0) {
      throw new IllegalArgumentException("maxInFlight : " + maxInFlight + " (expected: > 0)");
    }
    this.invoker = invoker;
    this.dispatch = dispatch;
    this.permits = new Semaphore(maxInFlight);
    this.metrics = metrics == null ? ExperimentMetrics.NOOP : metrics;
  }

  /**
   * Maybe shadow-scores a request the student {@code variant} served (sampled at the experiment's
   * shadow rate). Returns at once; {@code teacherOutputs} receives the teacher's outputs when done.
   */
  public boolean maybeScore(
      Experiment experiment,
      int variant,
      InferRequest request,
      List<Tensor> studentOutputs,
      Consumer<List<Tensor>> teacherOutputs) {
    int teacher = experiment.teacherIndex();
    if (variant == teacher || !sample(experiment.definition().shadowRate())) {
      return false;
    }
    String name = experiment.name();
    if (!permits.tryAcquire()) {
      dropped.increment();
      metrics.shadowOutcome(name, "dropped");
      return false;
    }
    Long teacherVersion = experiment.definition().variants().get(teacher).version();
    String teacherModel = experiment.definition().teacher();
    try {
      dispatch.execute(
          () -> {
            try {
              invoker
                  .infer(teacherModel, teacherVersion, request)
                  .onComplete(
                      ar -> {
                        permits.release();
                        if (ar.failed()) {
                          failed.increment();
                          metrics.shadowOutcome(name, "failed");
                          return;
                        }
                        try {
                          List<Tensor> t = ar.result().outputs();
                          experiment.recordShadow(
                              variant,
                              predictions(studentOutputs),
                              predictions(match(t, studentOutputs)));
                          scored.increment();
                          metrics.shadowOutcome(name, "scored");
                          if (teacherOutputs != null) {
                            teacherOutputs.accept(t);
                          }
                        } catch (RuntimeException e) {
                          failed.increment();
                        }
                      });
            } catch (RuntimeException e) {
              permits.release();
              failed.increment();
            }
          });
    } catch (RejectedExecutionException e) {
      permits.release();
      dropped.increment();
      metrics.shadowOutcome(name, "dropped");
      return false;
    }
    return true;
  }

  /** Shadow requests completed and compared. */
  public long scored() {
    return scored.sum();
  }

  /** Shadow requests skipped because too many were in flight. */
  public long dropped() {
    return dropped.sum();
  }

  /** Shadow requests that failed (the serving response was unaffected). */
  public long failed() {
    return failed.sum();
  }

  private static boolean sample(double rate) {
    return rate > 0
        && (rate >= 1 || java.util.concurrent.ThreadLocalRandom.current().nextDouble() < rate);
  }

  /** The teacher output with the student's first output's name, else the teacher's first output. */
  private static List<Tensor> match(List<Tensor> teacher, List<Tensor> student) {
    String name = student.get(0).name();
    for (Tensor t : teacher) {
      if (t.name().equals(name)) {
        return List.of(t);
      }
    }
    return teacher;
  }

  static float[] predictions(List<Tensor> outputs) {
    Tensor t = outputs.get(0);
    float[] p = new float[(int) t.elementCount()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) t.getDouble(i);
    }
    return p;
  }
}
