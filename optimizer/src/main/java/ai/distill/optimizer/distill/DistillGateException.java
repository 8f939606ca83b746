package ai.distill.optimizer.distill;

import ai.distill.optimizer.eval.GateVerdict;

/**
 * A distilled (or INT8) student failed its {@link DistillGate}; nothing was published. An {@link
 * IllegalArgumentException}, like every refusal of a distill job (the command exits 1 with the
 * message, the demo skips the model), carrying the verdict with its numbers.
 */
public final class DistillGateException extends IllegalArgumentException {

  private final transient GateVerdict verdict;

  public DistillGateException(GateVerdict verdict, String message) {
    super(message);
    this.verdict = verdict;
  }

  public GateVerdict verdict() {
    return verdict;
  }
}
