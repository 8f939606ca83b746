package ai.distill.gateway.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobSpecTest {

  @TempDir Path dir;

  private static String error(String json) {
    return assertThrows(
            IllegalArgumentException.class, () -> JobSpec.fromJson(new JsonObject(json)))
        .getMessage();
  }

  @Test
  void parses_a_full_request_and_defaults_rows_to_the_capture() {
    JobSpec spec =
        JobSpec.fromJson(
            new JsonObject(
                "{\"source\": \"ctr:2\", \"action\": \"distill+quantize\", "
                    + "\"name\": \"ctr-small\", \"options\": {\"hidden\": [16, 8]}, \"canary\": {\"experiment\": \"ab\", "
                    + "\"weight\": 5}}"));
    assertEquals(JobSpec.Action.DISTILL_QUANTIZE, spec.action());
    assertEquals("ctr", spec.sourceModel());
    assertEquals("capture", spec.rows());
    assertEquals(List.of(16, 8), spec.options().get("hidden"));
    assertEquals(new JobSpec.Canary("ab", 5), spec.canary());
  }

  @Test
  void says_what_is_wrong_with_a_request() {
    assertTrue(
        error("{\"source\": \"ctr\", \"action\": \"prune\", \"name\": \"x\"}")
            .startsWith(
                "action: prune (expected: \"quantize\", \"distill\" or \"distill+quantize\")"));
    assertTrue(
        error("{\"action\": \"quantize\", \"name\": \"x\"}")
            .startsWith("source: missing (expected: "));
    assertTrue(
        error("{\"source\": \"ctr\", \"action\": \"quantize\", \"name\": \"x\", \"when\": 1}")
            .startsWith(
                "body: unknown key 'when' (accepted keys: source, action, name, rows, options, canary"));
    assertEquals(
        "canary.weight: 0 (expected: an integer 1..99, the percent of traffic the canary gets)",
        error(
            "{\"source\": \"ctr\", \"action\": "
                + "\"quantize\", \"name\": \"x\", \"canary\": {\"experiment\": \"ab\", \"weight\": 0}}"));
    assertEquals(
        "canary.weight: 2.5 (expected: an integer 1..99, the percent of traffic the canary gets)",
        error(
            "{\"source\": \"ctr\", \"action\": "
                + "\"quantize\", \"name\": \"x\", \"canary\": {\"experiment\": \"ab\", \"weight\": 2.5}}"));
  }

  @Test
  void rows_must_stay_inside_the_store() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    Files.writeString(Files.createDirectories(store.resolve("rows")).resolve("r.jsonl"), "");
    Files.writeString(dir.resolve("secret.jsonl"), "");
    Files.createSymbolicLink(store.resolve("rows/link.jsonl"), dir.resolve("secret.jsonl"));
    assertEquals(store.resolve("rows/r.jsonl"), spec("rows/r.jsonl").rowsPath(store));
    assertEquals(store.resolve("captures/ctr"), spec("capture").rowsPath(store));
    assertEquals(store.resolve("captures/ctr-ab"), spec("capture:ctr-ab").rowsPath(store));
    for (String bad :
        List.of(
            "../secret.jsonl", "rows/../../secret.jsonl", dir.resolve("secret.jsonl").toString())) {
      String message =
          assertThrows(IllegalArgumentException.class, () -> spec(bad).rowsPath(store))
              .getMessage();
      assertTrue(message.contains("is outside the store"), message);
    }
    String link =
        assertThrows(IllegalArgumentException.class, () -> spec("rows/link.jsonl").rowsPath(store))
            .getMessage();
    assertTrue(link.contains("is a link that leaves the store"), link);
    String stream =
        assertThrows(IllegalArgumentException.class, () -> spec("capture:../x").rowsPath(store))
            .getMessage();
    assertTrue(stream.startsWith("rows: capture:../x (expected: "), stream);
    String missing =
        assertThrows(IllegalArgumentException.class, () -> spec("rows/none.jsonl").rowsPath(store))
            .getMessage();
    assertTrue(missing.contains("does not exist in the store"), missing);
  }

  private static JobSpec spec(String rows) {
    return JobSpec.fromJson(
        new JsonObject()
            .put("source", "ctr")
            .put("action", "quantize")
            .put("name", "q")
            .put("rows", rows));
  }

  @Test
  void options_become_the_commands_flags() {
    JobSpec spec =
        JobSpec.fromJson(
            new JsonObject(
                "{\"source\": \"t\", \"action\": \"distill+quantize\", "
                    + "\"name\": \"s\", \"rows\": \"r\", \"options\": {\"hidden\": [16, 8], \"epochs\": 2, \"qat\": true, "
                    + "\"learning_rate\": 0.01, \"min_rows\": 10}}"));
    JobRunner.Task task = JobArguments.task("id", spec, Path.of("/s"), "t:1", Path.of("/s/r"));
    assertEquals("distill", task.command());
    assertEquals(
        List.of(
            "--store",
            "/s",
            "--teacher",
            "t:1",
            "--data",
            "/s/r",
            "--name",
            "s",
            "--int8",
            "--hidden",
            "16,8",
            "--epochs",
            "2",
            "--qat",
            "--learning-rate",
            "0.01"),
        task.arguments());
    assertEquals(10, JobArguments.minRows(spec));

    JobSpec quantize =
        JobSpec.fromJson(
            new JsonObject(
                "{\"source\": \"t\", \"action\": \"quantize\", "
                    + "\"name\": \"q\", \"options\": {\"per-channel\": false, \"symmetric\": false}}"));
    assertEquals(
        List.of("--no-per-channel"),
        JobArguments.task("id", quantize, Path.of("/s"), "t:1", Path.of("/d"))
            .arguments()
            .subList(8, 9));
    assertEquals(
        8,
        JobArguments.task("id", quantize, Path.of("/s"), "t:1", Path.of("/d")).arguments().size()
            - 1);

    String reserved =
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    JobArguments.task(
                        "id",
                        JobSpec.fromJson(
                            new JsonObject(
                                "{\"source\": \"t\", \"action\": \"quantize\", \"name\": \"q\", "
                                    + "\"options\": {\"store\": \"/etc\"}}")),
                        Path.of("/s"),
                        "t:1",
                        Path.of("/d")))
            .getMessage();
    assertTrue(reserved.startsWith("options.store: set by the job itself"), reserved);
    String badValue =
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    JobArguments.task(
                        "id",
                        JobSpec.fromJson(
                            new JsonObject(
                                "{\"source\": \"t\", \"action\": \"quantize\", \"name\": \"q\", "
                                    + "\"options\": {\"percentile\": \"high\"}}")),
                        Path.of("/s"),
                        "t:1",
                        Path.of("/d")))
            .getMessage();
    assertTrue(badValue.startsWith("options: quantize refuses them: "), badValue);
  }
}
