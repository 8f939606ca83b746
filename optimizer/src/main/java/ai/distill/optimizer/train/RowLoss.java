package ai.distill.optimizer.train;

/**
 * A per-row loss on the student's logit. Row numbers index the {@link TrainingSet} being trained
 * on. Implementations must be thread-safe for concurrent reads (the trainer calls them from shard
 * workers).
 */
public interface RowLoss {

  /** The loss of one row given the student's logit. */
  double loss(int row, double logit);

  /** d loss / d logit for one row. */
  double gradient(int row, double logit);

  /** The mean target probability, used to initialise the output bias; NaN when unknown. */
  default double meanTarget() {
    return Double.NaN;
  }
}
