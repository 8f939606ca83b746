package ai.distill.optimizer.distill;

import java.util.Map;
import java.util.function.Consumer;

/** The distill → quantize chain: INT8 quantization of a distilled student (quant's Quantizer). */
final class Int8Step {

    record Int8Student(byte[] model, Map<String, Object> metrics) {
    }

    private Int8Step() {
    }

    static Int8Student quantize(byte[] student, InputTable calibration, InputTable evalRows, DistillOptions options,
            Consumer<String> progress) {
        throw new IllegalArgumentException("--int8 needs the quantizer, which is not available in this build yet");
    }
}
