package ai.distill.optimizer.distill;

import ai.distill.optimizer.train.StudentConfig;

/**
 * Settings of one distillation run. Immutable; start from {@link #defaults()}.
 *
 * @param student the student's architecture and training hyper-parameters
 * @param temperature T of the soft-target term (&gt; 0)
 * @param alpha λ, the teacher term's weight on labelled rows (unlabelled rows always use 1)
 * @param heldOutFraction share of the rows kept aside for early stopping (at most {@code
 *     maxHeldOutRows})
 * @param maxHeldOutRows cap on held-out rows
 * @param minRows fewer rows than this is an error (a student's embedding tables need many rows)
 * @param teacherThreads ORT intra-op threads for teacher scoring (0: ORT default)
 * @param scoreBatch rows per ORT run when scoring
 * @param gate the bounds the student must meet against the teacher before anything is published
 *     (default {@link DistillGate.Bounds#DEFAULTS}; null means those)
 */
public record DistillOptions(
    StudentConfig student,
    double temperature,
    double alpha,
    double heldOutFraction,
    int maxHeldOutRows,
    int minRows,
    int teacherThreads,
    int scoreBatch,
    DistillGate.Bounds gate) {

  public DistillOptions {
    if (!(temperature > 0) || temperature > 100) {
      throw new IllegalArgumentException(
          "temperature : " + temperature + " (expected: > 0 and <= 100)");
    }
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("alpha : " + alpha + " (expected: 0..1)");
    }
    if (!(heldOutFraction > 0 && heldOutFraction < 0.5)) {
      throw new IllegalArgumentException(
          "heldOutFraction : " + heldOutFraction + " (expected: > 0 and < 0.5)");
    }
    if (maxHeldOutRows < 1) {
      throw new IllegalArgumentException(
          "maxHeldOutRows : " + maxHeldOutRows + " (expected: >= 1)");
    }
    if (minRows < 20) {
      throw new IllegalArgumentException("minRows : " + minRows + " (expected: >= 20)");
    }
    if (teacherThreads < 0 || scoreBatch < 1) {
      throw new IllegalArgumentException(
          "teacherThreads : "
              + teacherThreads
              + ", scoreBatch : "
              + scoreBatch
              + " (expected: >= 0 and >= 1)");
    }
    gate = gate == null ? DistillGate.Bounds.DEFAULTS : gate;
  }

  /**
   * T = 1, λ = 0.5, 5% held out (≤ 20,000 rows), at least 1,000 rows, 2 teacher threads, batches of
   * 1,024.
   */
  public static DistillOptions defaults() {
    return new DistillOptions(
        StudentConfig.defaults(),
        1.0,
        0.5,
        0.05,
        20_000,
        1_000,
        2,
        1024,
        DistillGate.Bounds.DEFAULTS);
  }

  public DistillOptions withStudent(StudentConfig v) {
    return new DistillOptions(
        v,
        temperature,
        alpha,
        heldOutFraction,
        maxHeldOutRows,
        minRows,
        teacherThreads,
        scoreBatch,
        gate);
  }

  public DistillOptions withTemperature(double v) {
    return new DistillOptions(
        student,
        v,
        alpha,
        heldOutFraction,
        maxHeldOutRows,
        minRows,
        teacherThreads,
        scoreBatch,
        gate);
  }

  public DistillOptions withAlpha(double v) {
    return new DistillOptions(
        student,
        temperature,
        v,
        heldOutFraction,
        maxHeldOutRows,
        minRows,
        teacherThreads,
        scoreBatch,
        gate);
  }

  public DistillOptions withHeldOutFraction(double v) {
    return new DistillOptions(
        student, temperature, alpha, v, maxHeldOutRows, minRows, teacherThreads, scoreBatch, gate);
  }

  public DistillOptions withMinRows(int v) {
    return new DistillOptions(
        student,
        temperature,
        alpha,
        heldOutFraction,
        maxHeldOutRows,
        v,
        teacherThreads,
        scoreBatch,
        gate);
  }

  public DistillOptions withTeacherThreads(int v) {
    return new DistillOptions(
        student, temperature, alpha, heldOutFraction, maxHeldOutRows, minRows, v, scoreBatch, gate);
  }

  public DistillOptions withGate(DistillGate.Bounds v) {
    return new DistillOptions(
        student,
        temperature,
        alpha,
        heldOutFraction,
        maxHeldOutRows,
        minRows,
        teacherThreads,
        scoreBatch,
        v);
  }
}
