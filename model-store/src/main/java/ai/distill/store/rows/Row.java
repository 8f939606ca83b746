package ai.distill.store.rows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Objects;

/**
 * One JSON Lines row: {@code {"inputs": {"<name>": <tensor>, ...}, "label": 0|1, ...}}.
 *
 * @param line 1-based line number in its file
 * @param inputs input name to tensor, in the order written
 * @param label the click label, or null when the row has none
 * @param extra the row's other fields ({@code outputs}, {@code teacher_outputs}, {@code id}, {@code
 *     ts}...), or null when there are none
 */
public record Row(long line, Map<String, RowTensor> inputs, Integer label, ObjectNode extra) {

  public Row {
    Objects.requireNonNull(inputs, "inputs");
  }

  /** The named input. @throws IllegalArgumentException naming the inputs the row has */
  public RowTensor input(String name) {
    RowTensor t = inputs.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "input : " + name + " (expected one of: " + inputs.keySet() + ")");
    }
    return t;
  }
}
