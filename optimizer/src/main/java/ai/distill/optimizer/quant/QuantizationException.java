package ai.distill.optimizer.quant;

/**
 * Quantization could not produce an acceptable model; the message says why and what to change.
 * {@link #reason()} classifies it for callers that map errors (CLI exit, HTTP status).
 */
public final class QuantizationException extends RuntimeException {

  /** Why quantization stopped. */
  public enum Reason {
    /** The model has no MatMul/Gemm/Gather that can be quantized. */
    NO_QUANTIZABLE_NODES,
    /** Too few calibration or held-out rows for the chosen method. */
    NOT_ENOUGH_ROWS,
    /** The accuracy gate failed even after the allowed FP32 fallbacks. */
    ACCURACY_GATE,
    /** The INT8 model runs slower than its source and {@code force} was not set. */
    SLOWER_THAN_SOURCE
  }

  private final Reason reason;

  public QuantizationException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
