package ai.distill.gateway.capture;

import ai.distill.store.rows.RowsWriter;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One captured request: written through the store's {@link RowsWriter} as one JSON line per row in
 * the rows format ({@code {"inputs": {...}, "label": 0|1}}) plus {@code ts, model, variant,
 * version, outputs, teacher_outputs, id, row}. Immutable; {@link #withLabels} and {@link
 * #withTeacherOutputs} return copies.
 *
 * @param stream the capture directory under {@code <store>/captures/}: the experiment or model name
 * @param labels one 0/1 per row once feedback arrived, else null
 * @param teacherOutputs the teacher's shadow outputs for these rows, or null
 */
public record CaptureRecord(
    String stream,
    long timestampMillis,
    String model,
    String variant,
    Long version,
    String id,
    List<CapturedTensor> inputs,
    List<CapturedTensor> outputs,
    List<CapturedTensor> teacherOutputs,
    int[] labels) {

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
    return new CaptureRecord(
        stream,
        timestampMillis,
        model,
        variant,
        version,
        id,
        inputs,
        outputs,
        teacherOutputs,
        newLabels.clone());
  }

  public CaptureRecord withTeacherOutputs(List<CapturedTensor> teacher) {
    return new CaptureRecord(
        stream, timestampMillis, model, variant, version, id, inputs, outputs, teacher, labels);
  }

  /**
   * Writes row {@code r} through the store's rows writer: {@code inputs} and {@code label}, then
   * {@code ts, model, variant, version, outputs, teacher_outputs, id, row}.
   *
   * @throws IllegalArgumentException when an input of the row is not finite (no reader accepts it)
   */
  void writeRow(RowsWriter w, int r) {
    Map<String, Object> in = new LinkedHashMap<>();
    for (CapturedTensor t : inputs) {
      in.put(t.name(), t.rowValues(r));
    }
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("ts", timestampMillis).put("model", model).put("variant", variant);
    if (version != null) {
      o.put("version", String.valueOf(version));
    }
    o.set("outputs", rowsOf(outputs, r));
    if (teacherOutputs != null) {
      o.set("teacher_outputs", rowsOf(teacherOutputs, r));
    }
    if (id != null) {
      o.put("id", id).put("row", r);
    }
    w.write(in, labels == null ? null : labels[r] > 0 ? 1 : 0, o);
  }

  private static ObjectNode rowsOf(List<CapturedTensor> tensors, int r) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    for (CapturedTensor t : tensors) {
      o.set(t.name(), t.rowNode(r));
    }
    return o;
  }
}
