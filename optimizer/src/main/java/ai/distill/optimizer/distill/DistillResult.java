package ai.distill.optimizer.distill;

import ai.distill.optimizer.eval.GateVerdict;
import ai.distill.optimizer.train.StudentNet;
import ai.distill.optimizer.train.TrainResult;
import java.util.Map;

/**
 * A distilled student: its ONNX bytes (the teacher's signature), the trained network, how training
 * went, and the evaluation against the teacher as manifest metrics (flat, JSON-friendly; NaN values
 * are left out), and the verdict of the {@link DistillGate} against the teacher on the evaluation
 * rows (also in the metrics as {@code gate}; {@link DistillJob} refuses to publish a student that
 * failed it).
 */
public record DistillResult(
    byte[] model,
    StudentNet student,
    TrainResult training,
    Map<String, Object> metrics,
    GateVerdict gate) {

  public DistillResult {
    metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
  }

  /** A metric as a double (NaN when absent). */
  public double metric(String key) {
    Object v = metrics.get(key);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }
}
