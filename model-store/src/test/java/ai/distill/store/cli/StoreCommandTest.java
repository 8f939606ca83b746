package ai.distill.store.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.Role;
import ai.distill.store.TestModels;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class StoreCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Test
  void import_list_and_remove() throws IOException {
    Path store = dir.resolve("store");
    Path model = TestModels.write(dir, "ctr.onnx", TestModels.onnx("g", 100));

    assertEquals(
        0,
        run("import", "--store", store.toString(), "--name", "ctr", "--file", model.toString()),
        err.toString());
    JsonNode imported = JSON.readTree(out.toString());
    assertEquals("ctr:1", imported.get("imported").asText());
    assertEquals("teacher", imported.get("role").asText());
    assertEquals(Files.size(model), imported.get("size").asLong());
    assertEquals(1, out.toString().strip().lines().count(), "one line of JSON");

    assertEquals(
        0,
        run(
            "import",
            "--store",
            store.toString(),
            "--name",
            "ctr-int8",
            "--file",
            model.toString(),
            "--role",
            "STUDENT",
            "--parent",
            "ctr:1"),
        err.toString());
    ModelVersion student = ModelStore.open(store).resolve("ctr-int8");
    assertEquals(Role.STUDENT, student.role());
    assertEquals("ctr:1", student.manifest().parent());

    assertEquals(0, run("list", "--store", store.toString()), err.toString());
    List<String> lines = out.toString().lines().toList();
    assertEquals(3, lines.size(), out.toString());
    assertTrue(lines.get(0).startsWith("NAME"), lines.get(0));
    assertTrue(
        lines
            .get(1)
            .matches(
                "ctr\\s+1\\s+teacher\\s+-\\s+" + Files.size(model) + "\\s+[0-9a-f]{12}\\s+\\S+Z"),
        lines.get(1));
    assertTrue(lines.get(2).matches("ctr-int8\\s+1\\s+student\\s+ctr:1\\s+.*"), lines.get(2));

    assertEquals(0, run("list", "--store", store.toString(), "--json", "--verify"), err.toString());
    JsonNode listed = JSON.readTree(out.toString());
    assertEquals(2, listed.size());
    assertEquals("ctr-int8:1", listed.get(1).get("id").asText());
    assertEquals("ok", listed.get(1).get("integrity").asText());

    assertEquals(
        0,
        run("remove", "--store", store.toString(), "--name", "ctr-int8", "--version", "1"),
        err.toString());
    assertEquals("{\"removed\":\"ctr-int8:1\"}", out.toString().strip());
    assertEquals(0, run("remove", "--store", store.toString(), "--name", "ctr"), err.toString());
    assertEquals("{\"removed\":\"ctr\",\"versions\":1}", out.toString().strip());
    assertEquals(0, run("list", "--store", store.toString(), "--json"));
    assertEquals("[]", out.toString().strip());
  }

  @Test
  void import_rejects_a_file_that_is_not_onnx() throws IOException {
    Path store = dir.resolve("store");
    Path text = dir.resolve("model.onnx");
    Files.writeString(text, "this is not a model\n");
    assertEquals(
        1, run("import", "--store", store.toString(), "--name", "ctr", "--file", text.toString()));
    assertTrue(
        err.toString().startsWith("store import: " + text + " is not an ONNX model: "),
        err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());

    Path empty = Files.createFile(dir.resolve("empty.onnx"));
    assertEquals(
        1, run("import", "--store", store.toString(), "--name", "ctr", "--file", empty.toString()));
    assertEquals(
        "store import: file : " + empty + " is empty (expected: an ONNX model)",
        err.toString().strip());

    byte[] bytes = TestModels.onnx("g", 1000);
    Path truncated =
        TestModels.write(dir, "cut.onnx", java.util.Arrays.copyOf(bytes, bytes.length - 10));
    assertEquals(
        1,
        run(
            "import",
            "--store",
            store.toString(),
            "--name",
            "ctr",
            "--file",
            truncated.toString()));
    assertTrue(err.toString().contains("(truncated?)"), err.toString());

    assertEquals(
        1,
        run(
            "import",
            "--store",
            store.toString(),
            "--name",
            "ctr",
            "--file",
            dir.resolve("nope.onnx").toString()));
    assertTrue(err.toString().contains("(expected: an existing ONNX model file)"), err.toString());
    assertEquals(List.of(), ModelStore.open(store).modelNames());
  }

  @Test
  void bad_arguments_exit_non_zero_with_a_reason() {
    Path store = dir.resolve("store");
    Path model = dir.resolve("m.onnx");
    assertEquals(
        1,
        run("import", "--store", store.toString(), "--name", "../x", "--file", model.toString()));
    assertTrue(err.toString().startsWith("store import: name : ../x (expected: "), err.toString());

    assertEquals(
        2,
        run(
            "import",
            "--store",
            store.toString(),
            "--name",
            "x",
            "--file",
            model.toString(),
            "--role",
            "boss"));
    assertTrue(err.toString().contains("'boss' (expected: teacher or student)"), err.toString());

    assertEquals(2, run("import", "--store", store.toString(), "--name", "x"));
    assertTrue(err.toString().contains("Missing required option: '--file=F.onnx'"), err.toString());

    assertEquals(
        1, run("remove", "--store", store.toString(), "--name", "ghost", "--version", "3"));
    assertTrue(
        err.toString().startsWith("store remove: model version ghost:3 not found in store "),
        err.toString());

    assertEquals(2, run());
    assertTrue(
        err.toString().contains("Missing subcommand (expected: import, list or remove)"),
        err.toString());
  }

  @Test
  void list_verify_flags_a_corrupt_version() throws IOException {
    Path store = dir.resolve("store");
    Path model = TestModels.write(dir, "ctr.onnx", TestModels.onnx("g", 100));
    run("import", "--store", store.toString(), "--name", "ctr", "--file", model.toString());
    Path stored = ModelStore.open(store).resolve("ctr").modelFile();
    byte[] b = Files.readAllBytes(stored);
    b[b.length - 1] ^= 1;
    Files.write(stored, b);
    assertEquals(1, run("list", "--store", store.toString(), "--verify"));
    assertTrue(
        out.toString().lines().skip(1).findFirst().orElseThrow().endsWith("CORRUPT"),
        out.toString());
    assertTrue(err.toString().contains("is corrupt: expected sha256"), err.toString());
  }

  @Test
  void imports_the_shared_ctr_fixture() {
    Path shared = Path.of(System.getProperty("distill.shared.dir", "../../shared"));
    Path model = shared.resolve("fixtures/ctr-mlp-torch/model.onnx");
    Assumptions.assumeTrue(Files.isReadable(model), "skipped: fixture " + model + " is absent");
    assertEquals(
        0,
        run(
            "import",
            "--store",
            dir.resolve("store").toString(),
            "--name",
            "ctr",
            "--file",
            model.toString()),
        err.toString());
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    CommandLine cmd = new CommandLine(new StoreCommand());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }
}
