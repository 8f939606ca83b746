package ai.distill.optimizer.train;

/**
 * What one training epoch achieved.
 *
 * @param epoch 1-based epoch number
 * @param trainLoss mean training loss over the epoch's rows
 * @param heldOutLoss mean loss on the held-out rows after the epoch (NaN without held-out rows)
 * @param heldOutLogits the student's logits on the held-out rows (empty without held-out rows)
 * @param rowsPerSecond training rows per second in this epoch (forward, backward and update)
 * @param seconds wall time of the epoch's training steps
 * @param cpuSeconds CPU time the process used meanwhile (all threads; shows how much a shared
 *     machine slowed it)
 * @param improved whether the held-out loss is the best so far (the kept weights)
 * @param student the weights after this epoch; read them only inside the listener (training goes
 *     on)
 */
public record EpochReport(
    int epoch,
    double trainLoss,
    double heldOutLoss,
    float[] heldOutLogits,
    double rowsPerSecond,
    double seconds,
    double cpuSeconds,
    boolean improved,
    StudentNet student) {}
