package ai.distill.optimizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.eval.TestRows;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.Row;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class QuantizeCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  record Run(int exit, String out, String err) {}

  static Run run(Object command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(command);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  static Path writeRows(Path file, List<Row> rows) throws Exception {
    List<String> lines = new ArrayList<>();
    for (Row r : rows) {
      String inputs =
          r.inputs().entrySet().stream()
              .map(
                  e -> JSON.valueToTree(e.getKey()) + ": " + Arrays.toString(e.getValue().values()))
              .collect(Collectors.joining(", "));
      lines.add("{\"inputs\": {" + inputs + "}, \"label\": " + r.label() + "}");
    }
    Files.write(file, lines);
    return file;
  }

  @Test
  void quantize_publishes_a_student_with_parent_and_metrics(@TempDir Path dir) throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "ctr",
            TinyModels.ctrModel(5, 3, 1000, 16, new int[] {64, 32}, 11).toBytes(),
            Role.TEACHER));
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.ctr(5, 3, 1000, 1200, 5));
    Run r =
        run(
            new QuantizeCommand(),
            "--store",
            dir.resolve("store").toString(),
            "--model",
            "ctr",
            "--data",
            rows.toString(),
            "--method",
            "minmax",
            "--max-auc-drop",
            "0.01",
            "--no-speed-check",
            "--name",
            "ctr-int8");
    assertEquals(0, r.exit(), r.err());
    JsonNode summary = JSON.readTree(r.out().strip());
    assertEquals("ctr-int8:1", summary.get("published").asText());
    assertEquals("ctr:1", summary.get("parent").asText());
    assertTrue(summary.get("integer_kernels").asInt() > 0, r.out());
    assertTrue(r.err().contains("calibrating: 600/600 rows"), r.err());
    assertTrue(r.err().contains("gate (|dAUC| <= 0.01"), r.err());
    ModelVersion v = store.resolve("ctr-int8");
    assertEquals(Role.STUDENT, v.role());
    assertEquals("ctr:1", v.manifest().parent());
    @SuppressWarnings("unchecked")
    Map<String, Object> q = (Map<String, Object>) v.manifest().metrics().get("quantization");
    assertEquals("minmax", q.get("method"));
    assertEquals(600, ((Number) q.get("calibration_rows")).intValue());
    assertEquals(6, ((List<?>) q.get("layers")).size());
    assertTrue(
        v.manifest().metrics().containsKey("auc"), v.manifest().metrics().keySet().toString());

    Run e =
        run(
            new EvaluateCommand(),
            "--store",
            dir.resolve("store").toString(),
            "--model",
            "ctr-int8:1",
            "--data",
            rows.toString());
    assertEquals(0, e.exit(), e.err());
    JsonNode eval = JSON.readTree(e.out().strip());
    assertEquals(1200, eval.get("rows").asInt());
    double auc = eval.get("auc").asDouble();
    assertTrue(auc > 0 && auc < 1, e.out());
    assertTrue(eval.has("logloss") && eval.has("mean_prediction"), e.out());
  }

  @Test
  void model_without_quantizable_nodes_fails_and_publishes_nothing(@TempDir Path dir)
      throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "plain",
            GraphBuilder.create("g")
                .input("x", DataType.FLOAT, -1, 4)
                .op("Relu", "x", "y")
                .output("y", DataType.FLOAT, -1, 4)
                .toBytes(),
            Role.TEACHER));
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.gaussian("x", 4, 100, 1));
    Run r =
        run(
            new QuantizeCommand(),
            "--store",
            dir.resolve("store").toString(),
            "--model",
            "plain",
            "--data",
            rows.toString(),
            "--method",
            "minmax",
            "--name",
            "plain-int8");
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("\nquantize: the model has no quantizable nodes"), r.err());
    assertEquals(List.of("plain"), store.modelNames());
  }

  @Test
  void mismatched_rows_name_the_row_and_input(@TempDir Path dir) throws Exception {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    store.publish(
        PublishRequest.fromBytes(
            "mlp", TinyModels.mlp(4, new int[] {8}, 1).toBytes(), Role.TEACHER));
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.gaussian("x", 3, 100, 1));
    Run r =
        run(
            new QuantizeCommand(),
            "--store",
            dir.resolve("store").toString(),
            "--model",
            "mlp",
            "--data",
            rows.toString(),
            "--method",
            "minmax",
            "--name",
            "mlp-int8");
    assertEquals(1, r.exit());
    assertTrue(
        r.err().contains("row 1: input 'x' has 3 values, shape [3] (expected: 4 values"), r.err());
    assertEquals(List.of("mlp"), store.modelNames());
  }

  @Test
  void corrupt_onnx_file_is_reported(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.onnx");
    Files.write(bad, new byte[] {0x08, 0x07, 0x3a, 0x7f, 0x01});
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.gaussian("x", 4, 10, 1));
    Run r =
        run(
            new BenchCommand(),
            "--model-file",
            bad.toString(),
            "--reference-file",
            bad.toString(),
            "--data",
            rows.toString());
    assertEquals(1, r.exit());
    assertTrue(
        r.err().startsWith("bench: ") && r.err().contains("is not a valid ONNX model"), r.err());
  }

  @Test
  void bench_prints_a_third_model_side_by_side(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.onnx");
    Path b = dir.resolve("b.onnx");
    Path c = dir.resolve("c.onnx");
    TinyModels.mlp(4, new int[] {8}, 1).save(a);
    TinyModels.mlp(4, new int[] {16}, 2).save(b);
    TinyModels.mlp(4, new int[] {32}, 3).save(c);
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.gaussian("x", 4, 10, 1));
    Run r =
        run(
            new BenchCommand(),
            "--reference-file",
            a.toString(),
            "--model-file",
            b.toString(),
            "--compare-file",
            c.toString(),
            "--data",
            rows.toString(),
            "--batches",
            "8",
            "--seconds",
            "0.05",
            "--rounds",
            "1");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("other rows/s") && r.out().contains("ours/other"), r.out());
    String json = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
    JsonNode result = new ObjectMapper().readTree(json).get("results").get(0);
    assertEquals(c.toString(), new ObjectMapper().readTree(json).get("compared_with").asText());
    assertTrue(result.get("other_rows_per_second").asDouble() > 0, json);
    assertTrue(result.has("ours_over_other") && result.has("cpu_ratio"), json);
  }

  @Test
  void unknown_model_lists_what_exists(@TempDir Path dir) throws Exception {
    Path rows = writeRows(dir.resolve("rows.jsonl"), TestRows.gaussian("x", 4, 10, 1));
    Run r =
        run(
            new EvaluateCommand(),
            "--store",
            dir.resolve("store").toString(),
            "--model",
            "nope",
            "--data",
            rows.toString());
    assertEquals(1, r.exit());
    assertTrue(r.err().startsWith("evaluate: model 'nope' not found"), r.err());
  }
}
