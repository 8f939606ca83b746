package ai.distill.optimizer.train;

import java.util.List;

/**
 * The outcome of {@link Trainer#train}: the kept student (best held-out epoch) and how training
 * went.
 *
 * @param student the trained student
 * @param bestEpoch the epoch whose weights were kept
 * @param epochs per-epoch reports, in order
 * @param rowsTrained rows processed by training steps (all epochs)
 * @param trainSeconds wall time of training steps (all epochs, evaluation excluded)
 * @param cpuSeconds process CPU time during training steps (all threads)
 * @param stoppedEarly whether training stopped before the configured epochs
 */
public record TrainResult(
    StudentNet student,
    int bestEpoch,
    List<EpochReport> epochs,
    long rowsTrained,
    double trainSeconds,
    double cpuSeconds,
    boolean stoppedEarly) {

  public TrainResult {
    epochs = List.copyOf(epochs);
  }

  /** Training throughput over all epochs. */
  public double rowsPerSecond() {
    return trainSeconds > 0 ? rowsTrained / trainSeconds : 0;
  }
}
