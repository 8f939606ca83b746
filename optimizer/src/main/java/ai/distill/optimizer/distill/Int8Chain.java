package ai.distill.optimizer.distill;

import java.util.Map;
import java.util.function.Consumer;

/**
 * The distill → quantize chain: INT8 quantization of a distilled student with the optimizer's
 * quantizer, calibrated on the distillation rows and evaluated on the evaluation rows. Stateless.
 */
public final class Int8Chain {

    /**
     * An INT8 student.
     *
     * @param model ONNX bytes
     * @param metrics quantization and evaluation figures for the manifest
     */
    public record Int8Student(byte[] model, Map<String, Object> metrics) {
    }

    private Int8Chain() {
    }

    /** Quantizes {@code student}; calibration uses up to a few thousand of {@code calibration}'s rows. */
    public static Int8Student quantize(byte[] student, InputTable calibration, InputTable evalRows, DistillOptions options,
            Consumer<String> progress) {
        throw new IllegalArgumentException("INT8 needs the quantizer, which is not in this build yet");
    }
}
