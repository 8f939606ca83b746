package ai.distill.gateway.experiment;

import java.util.List;

/**
 * What an operator asks for when creating an experiment; immutable. {@link
 * ExperimentJson#definition} validates the admin API's body (the model-level checks — loaded, same
 * signature as the teacher, no name clash — are the {@link ExperimentService}'s) and throws {@link
 * IllegalArgumentException} naming the field.
 *
 * @param margin m: a student must keep CTR ≥ m × teacher CTR (default 0.99)
 * @param shadowRate share of student-served requests the teacher scores off the response path
 * @param captureRate share of requests captured as rows
 * @param minExposure exposed users each arm needs before a promotion
 * @param attributionWindowSeconds how long feedback for a response is accepted
 * @param plannedUsers n* of the confidence sequence (default 10,000)
 * @param latencyRatio the student's model cost p99 may be up to this × the teacher's (1.10)
 * @param latencyTolerance absolute slack (seconds) added to 1.10 × teacher p99, since
 *     sub-millisecond p99s are dominated by scheduling noise (default 0.0005)
 * @param maxErrorRate absolute ceiling on a student's model error rate, judged on its always-valid
 *     lower bound (default 0.05)
 * @param windowSeconds the sliding window of the end-to-end latency shown in the API (never judged)
 * @param minWindowRequests model costs each arm needs before a latency guardrail window closes
 *     (default 2000; raised to 846 when lower, since fewer cannot bound a p99 from above)
 * @param latencyBreaches consecutive breaching latency windows that roll back (default 3)
 * @param latencySloSeconds absolute SLO on a student's model cost p99, judged on its lower bound; a
 *     breach rolls back when its window closes (default 0.05; 0 = none)
 * @param maxErrorRateDelta allowed student − teacher model error rate, judged on an always-valid
 *     bound (default 0.01)
 */
public record ExperimentDefinition(
    String name,
    String teacher,
    List<Variant> variants,
    double margin,
    double shadowRate,
    double captureRate,
    long minExposure,
    long attributionWindowSeconds,
    boolean auto,
    long plannedUsers,
    double alpha,
    String salt,
    double latencyRatio,
    double latencyTolerance,
    double maxErrorRate,
    long windowSeconds,
    long minWindowRequests,
    int latencyBreaches,
    double latencySloSeconds,
    double maxErrorRateDelta) {

  /** One arm: a model, optionally pinned to a version (null = the model's serving version). */
  public record Variant(String model, Long version, double weight) {}

  public ExperimentDefinition {
    variants = List.copyOf(variants);
  }

  /** Index of the teacher's variant. */
  public int teacherIndex() {
    for (int i = 0; i < variants.size(); i++) {
      if (variants.get(i).model().equals(teacher)) {
        return i;
      }
    }
    throw new IllegalStateException("teacher not among variants");
  }

  public double[] weights() {
    double[] w = new double[variants.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = variants.get(i).weight();
    }
    return w;
  }
}
