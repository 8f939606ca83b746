package ai.distill.optimizer.quant;

/** The quantized model's bytes and the report of how it was made. */
public record QuantizeResult(byte[] model, QuantizeReport report) {}
