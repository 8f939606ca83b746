package ai.distill.optimizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.drift.ReferenceSketch;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.Manifest;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.RowsWriter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DistillCommandTest {

  @TempDir Path dir;
  ModelStore store;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void setUp() {
    store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "t", TinyModels.ctrModel(4, 6, 20, 4, new int[] {16}, 7).toBytes(), Role.TEACHER));
    store.publish(
        PublishRequest.fromBytes("odd", TinyModels.multiTypes(3).toBytes(), Role.TEACHER));
  }

  private int run(String... args) {
    CommandLine cl = new CommandLine(new DistillCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  private Path rows(String name, int n, boolean labels) {
    Path file = dir.resolve(name);
    Random r = new Random(3);
    try (RowsWriter w = RowsWriter.create(file)) {
      for (int i = 0; i < n; i++) {
        float[] dense = new float[4];
        long[] sparse = new long[6];
        for (int j = 0; j < 4; j++) {
          dense[j] = (float) r.nextGaussian();
        }
        for (int j = 0; j < 6; j++) {
          sparse[j] = r.nextInt(20);
        }
        w.write(Map.of("dense", dense, "sparse", sparse), labels ? r.nextInt(2) : null, null);
      }
    }
    return file;
  }

  private String lastError() {
    String[] lines = err.toString().trim().split("\n");
    return lines[lines.length - 1];
  }

  private String[] args(Path data, String... more) {
    String[] base = {
      "--store",
      dir.resolve("store").toString(),
      "--teacher",
      "t",
      "--data",
      data.toString(),
      "--name",
      "s",
      "--epochs",
      "4",
      "--batch",
      "64",
      "--learning-rate",
      "0.01"
    };
    if (more.length == 0) {
      more = new String[] {"--hidden", "8", "--embedding-dim", "2"};
    }
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void distills_unlabelled_rows_and_publishes_a_student_with_its_evaluation() throws Exception {
    int exit = run(args(rows("rows.jsonl", 1500, false)));
    assertEquals(0, exit, err.toString());
    JsonNode summary = new ObjectMapper().readTree(out.toString().trim());
    assertEquals("s:1", summary.get("student").asText());
    assertEquals("t:1", summary.get("teacher").asText());
    assertTrue(summary.get("agreement_spearman").asDouble() > 0);
    assertTrue(err.toString().contains("epoch 1: loss"), err.toString());
    ModelVersion v = store.resolve("s");
    Manifest m = v.manifest();
    assertEquals(Role.STUDENT, m.role());
    assertEquals("t:1", m.parent());
    assertTrue(m.metrics().containsKey("flops_ratio"), m.metrics().toString());
    assertTrue(m.metrics().containsKey("agreement_spearman"));
  }

  @Test
  void int8_flag_publishes_the_quantized_student_too() throws Exception {
    // --alpha 1: the labels here are coin flips; trained on them the student would (rightly) fail
    // its gate
    int exit =
        run(
            args(
                rows("rows.jsonl", 3000, true),
                "--int8",
                "--hidden",
                "32,16",
                "--embedding-dim",
                "8",
                "--alpha",
                "1"));
    if (exit != 0) {
      // the quantizer refuses an INT8 model slower than FP32 on this tiny net: nothing is published
      // then
      assertTrue(
          err.toString().contains("INT8 quantization of the student failed"), err.toString());
      assertTrue(store.latest("s").isEmpty() && store.latest("s-int8").isEmpty());
      return;
    }
    JsonNode summary = new ObjectMapper().readTree(out.toString().trim());
    assertEquals("s-int8:1", summary.get("int8_student").asText());
    assertEquals("s:1", store.resolve("s-int8").manifest().parent());
  }

  @Test
  void a_teacher_with_unsupported_inputs_is_refused_with_the_reason() {
    int exit =
        run(
            "--store",
            dir.resolve("store").toString(),
            "--teacher",
            "odd",
            "--data",
            rows("rows.jsonl", 10, false).toString(),
            "--name",
            "s");
    assertEquals(1, exit);
    assertTrue(
        err.toString()
            .startsWith("distill: the teacher's input 'f64' is DOUBLE; a student mirrors FLOAT"),
        err.toString());
    assertTrue(store.latest("s").isEmpty());
  }

  @Test
  void rows_that_do_not_match_the_teacher_name_the_row() throws Exception {
    Path file = dir.resolve("bad.jsonl");
    Files.writeString(
        file,
        "{\"inputs\": {\"dense\": [1,2,3,4], \"sparse\": [1,2,3,4,5,6]}}\n"
            + "{\"inputs\": {\"dense\": [1,2,3], \"sparse\": [1,2,3,4,5,6]}}\n");
    assertEquals(1, run(args(file)));
    assertEquals(
        "distill: row 2: input 'dense' has 3 values, shape [3] (expected: 4 values, shape [4])",
        lastError());
    assertTrue(store.latest("s").isEmpty(), "nothing published");
  }

  @Test
  void nan_values_are_rejected_with_the_line() throws Exception {
    Path file = dir.resolve("nan.jsonl");
    Files.writeString(
        file,
        "{\"inputs\": {\"dense\": [1,2,3,4], \"sparse\": [1,2,3,4,5,6]}}\n"
            + "{\"inputs\": {\"dense\": [1,NaN,3,4], \"sparse\": [1,2,3,4,5,6]}}\n"
            + "{\"inputs\": {\"dense\": [1,2,3,4], \"sparse\": [1,2,3,4,5,6]}}\n");
    assertEquals(1, run(args(file)));
    assertTrue(
        lastError().startsWith("distill: ")
            && lastError().contains("nan.jsonl:2:")
            && lastError().contains("NaN"),
        lastError());
    assertTrue(store.latest("s").isEmpty());
  }

  @Test
  void fractional_ids_and_missing_inputs_are_rejected() throws Exception {
    Path file = dir.resolve("ids.jsonl");
    Files.writeString(file, "{\"inputs\": {\"dense\": [1,2,3,4], \"sparse\": [1,2.5,3,4,5,6]}}\n");
    assertEquals(1, run(args(file)));
    assertTrue(
        err.toString().contains("row 1: input 'sparse' value 1 is 2.5 (expected: an integer id"),
        err.toString());
    Path missing = dir.resolve("missing.jsonl");
    Files.writeString(missing, "{\"inputs\": {\"dense\": [1,2,3,4]}}\n");
    assertEquals(1, run(args(missing)));
    assertTrue(err.toString().contains("row 1: input 'sparse' is missing"), err.toString());
  }

  @Test
  void too_few_rows_and_unknown_teachers_are_one_line_errors() {
    assertEquals(1, run(args(rows("few.jsonl", 30, false))));
    assertTrue(
        err.toString().contains("too few rows: 30 (expected: at least 1000"), err.toString());
    err.getBuffer().setLength(0);
    assertEquals(
        1,
        run(
            "--store",
            dir.resolve("store").toString(),
            "--teacher",
            "nope",
            "--data",
            rows("r.jsonl", 10, false).toString(),
            "--name",
            "s"));
    assertTrue(err.toString().startsWith("distill: model 'nope' not found"), err.toString());
    assertEquals(1, err.toString().trim().lines().filter(l -> l.startsWith("distill: ")).count());
  }

  @Test
  void int8_on_unlabelled_rows_is_gated_label_free_against_the_fp32_student_and_the_teacher()
      throws Exception {
    int exit =
        run(
            args(
                rows("rows.jsonl", 4000, false),
                "--int8",
                "--hidden",
                "32,16",
                "--embedding-dim",
                "8"));
    if (exit != 0) {
      // refused by a gate (its numbers in the message) or by the speed check: nothing is published
      // then
      assertTrue(
          err.toString().contains("gate failed") || err.toString().contains("SLOWER_THAN_SOURCE"),
          err.toString());
      assertTrue(out.toString().isBlank(), out.toString());
      assertTrue(store.latest("s").isEmpty() && store.latest("s-int8").isEmpty());
      return;
    }
    assertFalse(err.toString().contains("AUC NaN"), err.toString());
    assertTrue(err.toString().contains("label-free vs FP32 student"), err.toString());
    JsonNode summary = new ObjectMapper().readTree(out.toString().trim());
    assertEquals("label_free", summary.get("gate").get("mode").asText(), summary.toString());
    assertTrue(summary.get("gate").get("passed").asBoolean());
    JsonNode int8Gate = summary.get("int8_gate");
    assertEquals("label_free", int8Gate.get("mode").asText(), summary.toString());
    assertTrue(int8Gate.get("passed").asBoolean());
    assertTrue(int8Gate.get("spearman").asDouble() >= 0.98, int8Gate.toString());
    assertEquals("label_free", summary.get("int8_teacher_gate").get("mode").asText());
    assertFalse(summary.has("int8_reference_sketch"), "the sketch stays in the manifest");
    Map<String, Object> metrics = store.resolve("s-int8").manifest().metrics();
    assertEquals("label_free", ((Map<?, ?>) metrics.get("gate")).get("mode"));
    assertTrue(metrics.containsKey("teacher_gate"), metrics.keySet().toString());
    ReferenceSketch sketch = ReferenceSketch.fromMetrics(metrics).orElseThrow();
    assertEquals(10, sketch.columns().size());
    assertEquals(
        "label_free",
        ((Map<?, ?>) store.resolve("s").manifest().metrics().get("gate")).get("mode"));
  }

  @Test
  void
      a_student_outside_the_label_free_bounds_is_refused_with_the_numbers_and_nothing_is_published() {
    int exit =
        run(
            args(
                rows("rows.jsonl", 1500, false),
                "--int8",
                "--hidden",
                "8",
                "--embedding-dim",
                "2",
                "--max-mean-abs-diff",
                "0"));
    assertEquals(1, exit, err.toString());
    assertTrue(
        lastError()
            .startsWith("distill: label-free gate failed for the student against the teacher"),
        lastError());
    assertTrue(
        lastError().contains("mean absolute difference ") && lastError().contains(" > 0;"),
        lastError());
    assertTrue(out.toString().isBlank(), out.toString());
    assertTrue(store.latest("s").isEmpty() && store.latest("s-int8").isEmpty());
  }

  @Test
  void labelled_evaluation_rows_keep_the_labelled_gate() throws Exception {
    int exit =
        run(
            args(
                rows("rows.jsonl", 1500, false),
                "--eval",
                rows("eval.jsonl", 600, true).toString(),
                "--hidden",
                "8",
                "--embedding-dim",
                "2"));
    assertEquals(0, exit, err.toString());
    JsonNode gate = new ObjectMapper().readTree(out.toString().trim()).get("gate");
    assertEquals("labelled", gate.get("mode").asText(), gate.toString());
    assertEquals(600, gate.get("labelled_rows").asInt());
    assertTrue(gate.has("auc_delta") && gate.get("passed").asBoolean(), gate.toString());
  }
}
