package ai.distill.gateway.capture;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One captured request: written as one JSON line per row in the rows format
 * ({@code {"inputs": {...}, "label": 0|1}}) plus {@code ts, model, variant, version, id, row, outputs,
 * teacher_outputs}. Immutable; {@link #withLabels} and {@link #withTeacherOutputs} return copies.
 *
 * @param stream         the capture directory under {@code <store>/captures/}: the experiment or model name
 * @param labels         one 0/1 per row once feedback arrived, else null
 * @param teacherOutputs the teacher's shadow outputs for these rows, or null
 */
public record CaptureRecord(String stream, long timestampMillis, String model, String variant, Long version, String id,
                            List<CapturedTensor> inputs, List<CapturedTensor> outputs,
                            List<CapturedTensor> teacherOutputs, int[] labels) {

    public CaptureRecord {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        teacherOutputs = teacherOutputs == null ? null : List.copyOf(teacherOutputs);
    }

    public int rows() {
        return inputs.isEmpty() ? 0 : inputs.get(0).rows();
    }

    /** Approximate heap footprint, for bounding what waits in memory. */
    public long bytes() {
        long b = 256;
        for (CapturedTensor t : inputs) {
            b += t.bytes();
        }
        for (CapturedTensor t : outputs) {
            b += t.bytes();
        }
        if (teacherOutputs != null) {
            for (CapturedTensor t : teacherOutputs) {
                b += t.bytes();
            }
        }
        return b;
    }

    public CaptureRecord withLabels(int[] newLabels) {
        return new CaptureRecord(stream, timestampMillis, model, variant, version, id, inputs, outputs, teacherOutputs,
                newLabels.clone());
    }

    public CaptureRecord withTeacherOutputs(List<CapturedTensor> teacher) {
        return new CaptureRecord(stream, timestampMillis, model, variant, version, id, inputs, outputs, teacher, labels);
    }

    /** The JSON line of row {@code r} (without the newline). */
    String line(int r) {
        JsonObject in = new JsonObject();
        for (CapturedTensor t : inputs) {
            in.put(t.name(), t.row(r));
        }
        JsonObject o = new JsonObject().put("inputs", in);
        if (labels != null) {
            o.put("label", labels[r] > 0 ? 1 : 0);
        }
        o.put("ts", timestampMillis).put("model", model).put("variant", variant);
        if (version != null) {
            o.put("version", String.valueOf(version));
        }
        JsonObject out = new JsonObject();
        for (CapturedTensor t : outputs) {
            out.put(t.name(), t.row(r));
        }
        o.put("outputs", out);
        if (teacherOutputs != null) {
            JsonObject teacher = new JsonObject();
            for (CapturedTensor t : teacherOutputs) {
                teacher.put(t.name(), t.row(r));
            }
            o.put("teacher_outputs", teacher);
        }
        if (id != null) {
            o.put("id", id).put("row", r);
        }
        return o.encode();
    }
}
