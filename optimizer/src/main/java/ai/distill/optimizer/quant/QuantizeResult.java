package ai.distill.optimizer.quant;

import ai.distill.optimizer.drift.ReferenceSketch;

/**
 * The quantized model's bytes, the report of how it was made, and the {@link ReferenceSketch} of
 * its calibration rows ({@code null} in dynamic mode, which calibrates on nothing), for the
 * published manifest.
 */
public record QuantizeResult(byte[] model, QuantizeReport report, ReferenceSketch sketch) {

  public QuantizeResult(byte[] model, QuantizeReport report) {
    this(model, report, null);
  }
}
