package ai.distill.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {

  @TempDir Path root;

  @Test
  void publishes_versions_that_increment_and_can_be_found() throws IOException {
    ModelStore store = ModelStore.open(root);
    ModelVersion v1 =
        store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    Path src = TestModels.write(root, "b.onnx", TestModels.onnx("b"));
    ModelVersion v2 = store.publish(PublishRequest.fromFile("ctr", src, Role.TEACHER));

    assertEquals(1, v1.version());
    assertEquals(2, v2.version());
    assertEquals("ctr:2", v2.id());
    assertEquals(root.resolve("models/ctr/2/model.onnx").toAbsolutePath(), v2.modelFile());
    assertArrayEquals(TestModels.onnx("b"), Files.readAllBytes(v2.modelFile()));
    assertTrue(Files.exists(src), "the source file is copied, not moved");
    assertEquals(List.of("ctr"), store.modelNames());
    assertEquals(
        List.of(1L, 2L), store.versions("ctr").stream().map(ModelVersion::version).toList());
    assertEquals(2, store.latest("ctr").orElseThrow().version());
    assertEquals(v1.manifest(), store.find("ctr", 1).orElseThrow().manifest());
    assertTrue(store.find("ctr", 3).isEmpty());
    assertTrue(store.latest("nope").isEmpty());
    assertEquals(2, store.resolve("ctr").version());
    assertEquals(1, store.resolve("ctr:1").version());
    assertEquals(2, store.resolve("ctr:latest").version());
  }

  @Test
  void manifest_records_role_parent_digest_and_metrics() {
    ModelStore store = ModelStore.open(root);
    byte[] bytes = TestModels.onnx("s", 1000);
    Map<String, Object> metrics =
        Map.of(
            "auc",
            0.8012,
            "quantization",
            Map.of("method", "percentile", "fallback", List.of("fc1", "fc2")));
    Instant before = Instant.now();
    ModelVersion v =
        store.publish(PublishRequest.fromBytes("ctr-int8", bytes, Role.STUDENT, "ctr:1", metrics));

    Manifest m = store.find("ctr-int8", 1).orElseThrow().manifest();
    assertEquals("ctr-int8", m.name());
    assertEquals(1, m.version());
    assertEquals(Role.STUDENT, m.role());
    assertEquals("ctr:1", m.parent());
    assertEquals(DurableFiles.sha256Hex(bytes), m.sha256());
    assertEquals(bytes.length, m.size());
    assertFalse(m.created().isBefore(before.minusSeconds(1)));
    assertEquals(0.8012, m.metrics().get("auc"));
    assertEquals(
        Map.of("method", "percentile", "fallback", List.of("fc1", "fc2")),
        m.metrics().get("quantization"));
    assertEquals(v.manifest(), m);
  }

  @Test
  void manifest_json_is_snake_case_lowercase_role_and_ignores_unknown_keys() {
    Manifest m =
        new Manifest(
            "ctr",
            3,
            Role.TEACHER,
            null,
            "a".repeat(64),
            12,
            Instant.parse("2026-11-27T21:00:00Z"),
            Map.of("auc", 0.5));
    String json = m.toJson();
    assertTrue(json.contains("\"role\" : \"teacher\""), json);
    assertTrue(json.contains("\"created\" : \"2026-11-27T21:00:00Z\""), json);
    assertEquals(m, Manifest.fromJson(json));

    Manifest later =
        Manifest.fromJson(
            "{\"name\":\"ctr\",\"version\":3,\"role\":\"student\",\"sha256\":\""
                + "b".repeat(64)
                + "\",\"size\":1,\"created\":\"2026-11-27T21:00:00Z\",\"future_field\":{\"x\":1}}");
    assertEquals(Role.STUDENT, later.role());
    assertNull(later.parent());
    assertEquals(Map.of(), later.metrics());
  }

  @Test
  void manifest_round_trips_through_any_object_mapper() throws IOException {
    Manifest m =
        new Manifest(
            "ctr",
            2,
            Role.STUDENT,
            "ctr:1",
            "c".repeat(64),
            99,
            Instant.parse("2026-11-27T21:00:00.123Z"),
            Map.of("nested", Map.of("list", List.of(1, 2.5, "x"))));
    com.fasterxml.jackson.databind.ObjectMapper plain =
        new com.fasterxml.jackson.databind.ObjectMapper();
    String json = plain.writeValueAsString(m);
    assertTrue(json.contains("\"role\":\"student\""), json);
    assertEquals(m, plain.readValue(json, Manifest.class));
  }

  @Test
  void invalid_manifest_json_says_what_is_wrong() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Manifest.fromJson(
                    "{\"name\":\"ctr\",\"version\":1,\"role\":\"boss\",\"sha256\":\""
                        + "b".repeat(64)
                        + "\",\"size\":1,\"created\":\"2026-11-27T21:00:00Z\"}"));
    assertTrue(
        e.getMessage().contains("role : boss (expected: teacher or student)"), e.getMessage());
  }

  @Test
  void rejects_bad_names_with_the_expected_form() {
    ModelStore store = ModelStore.open(root);
    for (String bad : new String[] {"", ".hidden", "a/b", "a:b", "-x", "x".repeat(129), "../etc"}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> store.publish(PublishRequest.fromBytes(bad, new byte[] {1}, Role.TEACHER)));
      assertEquals(
          "name : "
              + bad
              + " (expected: 1-128 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit)",
          e.getMessage());
    }
    assertEquals("x".repeat(128), ModelStore.checkName("x".repeat(128)));
  }

  @Test
  void resolve_explains_what_exists() {
    ModelStore store = ModelStore.open(root);
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    ModelNotFoundException noVersion =
        assertThrows(ModelNotFoundException.class, () -> store.resolve("ctr:7"));
    assertTrue(
        noVersion.getMessage().startsWith("model version ctr:7 not found in store "),
        noVersion.getMessage());
    assertTrue(noVersion.getMessage().endsWith("(versions of ctr: 1)"), noVersion.getMessage());
    ModelNotFoundException noModel =
        assertThrows(ModelNotFoundException.class, () -> store.resolve("other"));
    assertTrue(
        noModel.getMessage().startsWith("model 'other' not found in store "), noModel.getMessage());
    assertTrue(noModel.getMessage().endsWith("(models: ctr)"), noModel.getMessage());
    IllegalArgumentException bad =
        assertThrows(IllegalArgumentException.class, () -> store.resolve("ctr:x"));
    assertEquals(
        "model : ctr:x (expected: name or name:version with a version >= 1)", bad.getMessage());
  }

  @Test
  void remove_deletes_a_version_and_does_not_reuse_its_number() throws IOException {
    ModelStore store = ModelStore.open(root);
    for (int i = 0; i < 3; i++) {
      store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("v" + i), Role.TEACHER));
    }
    store.remove("ctr", 3);
    store.remove("ctr", 1);
    assertEquals(List.of(2L), versionNumbers(store, "ctr"));
    assertFalse(Files.exists(root.resolve("models/ctr/3")));
    assertEquals(
        4,
        store
            .publish(PublishRequest.fromBytes("ctr", TestModels.onnx("v4"), Role.TEACHER))
            .version());
    assertThrows(ModelNotFoundException.class, () -> store.remove("ctr", 3));
    assertEquals(List.of(), tmpEntries(), "removal leaves nothing in tmp");
  }

  @Test
  void remove_model_deletes_every_version() {
    ModelStore store = ModelStore.open(root);
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("b"), Role.TEACHER));
    store.publish(PublishRequest.fromBytes("other", TestModels.onnx("c"), Role.STUDENT));
    store.removeModel("ctr");
    assertEquals(List.of("other"), store.modelNames());
    assertEquals(List.of(), store.versions("ctr"));
    ModelNotFoundException e =
        assertThrows(ModelNotFoundException.class, () -> store.removeModel("ctr"));
    assertTrue(e.getMessage().contains("(models: other)"), e.getMessage());
    assertEquals(
        1,
        store
            .publish(PublishRequest.fromBytes("ctr", TestModels.onnx("d"), Role.TEACHER))
            .version());
  }

  @Test
  void leftover_tmp_dirs_of_a_crashed_publisher_are_ignored_and_cleaned_on_open()
      throws IOException {
    ModelStore.open(root)
        .publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    Path crashed = Files.createDirectories(root.resolve("tmp/5f0c-crashed"));
    Files.write(crashed.resolve("model.onnx"), new byte[] {1, 2});
    Files.writeString(root.resolve("tmp/5f0c-crashed.lock"), "");
    Files.writeString(root.resolve("tmp/orphan.lock"), "");

    ModelStore store = ModelStore.open(root);

    assertEquals(List.of(), tmpEntries());
    assertEquals(List.of(1L), versionNumbers(store, "ctr"));
  }

  @Test
  void version_dirs_missing_the_model_or_the_manifest_or_with_a_bad_manifest_are_not_listed()
      throws IOException {
    ModelStore store = ModelStore.open(root);
    ModelVersion good =
        store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    Path noManifest = Files.createDirectories(root.resolve("models/ctr/2"));
    Files.write(noManifest.resolve("model.onnx"), TestModels.onnx("b"));
    Path noModel = Files.createDirectories(root.resolve("models/ctr/3"));
    Files.writeString(noModel.resolve("manifest.json"), good.manifest().toJson());
    Path badManifest = Files.createDirectories(root.resolve("models/ctr/4"));
    Files.write(badManifest.resolve("model.onnx"), TestModels.onnx("d"));
    Files.writeString(badManifest.resolve("manifest.json"), "{\"name\": \"ctr\", \"vers");
    Path wrongId = Files.createDirectories(root.resolve("models/ctr/5"));
    Files.write(wrongId.resolve("model.onnx"), TestModels.onnx("a"));
    Files.writeString(wrongId.resolve("manifest.json"), good.manifest().toJson()); // says ctr:1
    Files.createDirectories(root.resolve("models/ctr/notaversion"));
    Files.createDirectories(root.resolve("models/empty/1"));

    assertEquals(List.of(1L), versionNumbers(store, "ctr"));
    assertTrue(store.find("ctr", 2).isEmpty());
    assertEquals(List.of("ctr"), store.modelNames());
    assertEquals(
        6,
        store
            .publish(PublishRequest.fromBytes("ctr", TestModels.onnx("e"), Role.TEACHER))
            .version(),
        "numbers of incomplete dirs are not reused");
  }

  @Test
  void verify_detects_a_tampered_byte_and_names_file_and_digests() throws IOException {
    ModelStore store = ModelStore.open(root);
    ModelVersion v =
        store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a", 100), Role.TEACHER));
    assertEquals(v, store.verify(v));

    byte[] bytes = Files.readAllBytes(v.modelFile());
    bytes[bytes.length / 2] ^= 1;
    Files.write(v.modelFile(), bytes);
    String actual = DurableFiles.sha256Hex(bytes);

    IntegrityException e =
        assertThrows(IntegrityException.class, () -> store.verify(store.resolve("ctr:1")));
    assertEquals(
        "model file "
            + v.modelFile()
            + " of ctr:1 is corrupt: expected sha256 "
            + v.manifest().sha256()
            + " ("
            + bytes.length
            + " bytes), actual sha256 "
            + actual
            + " ("
            + bytes.length
            + " bytes)",
        e.getMessage());
    assertEquals(v.modelFile(), e.file());
    assertEquals(v.manifest().sha256(), e.expectedSha256());
    assertEquals(actual, e.actualSha256());
  }

  @Test
  void verify_reports_a_missing_model_file() throws IOException {
    ModelStore store = ModelStore.open(root);
    ModelVersion v =
        store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    Files.delete(v.modelFile());
    IntegrityException e = assertThrows(IntegrityException.class, () -> store.verify(v));
    assertTrue(e.getMessage().contains("is missing"), e.getMessage());
  }

  @Test
  void concurrent_publishers_get_distinct_versions() throws Exception {
    // two store instances on one root behave like two processes: only the atomic rename arbitrates
    // between them
    ModelStore a = ModelStore.open(root);
    ModelStore b = ModelStore.open(root);
    int threads = 4;
    int each = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<Long>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        ModelStore store = t % 2 == 0 ? a : b;
        int thread = t;
        Callable<List<Long>> job =
            () -> {
              List<Long> got = new ArrayList<>();
              for (int i = 0; i < each; i++) {
                got.add(
                    store
                        .publish(
                            PublishRequest.fromBytes(
                                "ctr", TestModels.onnx("t" + thread + "-" + i), Role.TEACHER))
                        .version());
              }
              return got;
            };
        futures.add(pool.submit(job));
      }
      List<Long> all = new ArrayList<>();
      for (Future<List<Long>> f : futures) {
        all.addAll(f.get());
      }
      Collections.sort(all);
      List<Long> expected = Stream.iterate(1L, x -> x + 1).limit((long) threads * each).toList();
      assertEquals(expected, all);
      assertEquals(expected, versionNumbers(a, "ctr"));
      for (ModelVersion v : a.versions("ctr")) {
        a.verify(v);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void publishing_a_missing_source_file_fails_and_publishes_nothing() throws IOException {
    ModelStore store = ModelStore.open(root);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                store.publish(
                    PublishRequest.fromFile("ctr", root.resolve("missing.onnx"), Role.TEACHER)));
    assertTrue(e.getMessage().startsWith("sourceFile : "), e.getMessage());
    assertEquals(List.of(), store.modelNames());
    assertEquals(List.of(), tmpEntries());
  }

  @Test
  void publish_request_needs_exactly_one_source() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new PublishRequest("ctr", root, new byte[1], Role.TEACHER, null, null));
    assertTrue(e.getMessage().endsWith("(expected: exactly one of them)"), e.getMessage());
  }

  @Test
  void open_creates_the_layout() {
    ModelStore store = ModelStore.open(root.resolve("fresh"));
    assertTrue(Files.isDirectory(store.root().resolve("models")));
    assertEquals(store.root().resolve("captures"), store.capturesDir());
    assertEquals(store.root().resolve("experiments"), store.experimentsDir());
    assertTrue(Files.isDirectory(store.capturesDir()));
    assertTrue(Files.isDirectory(store.experimentsDir()));
    assertEquals(List.of(), store.modelNames());
  }

  @Test
  void role_parses_case_insensitively_and_prints_lowercase() {
    assertEquals(Role.STUDENT, Role.parse("Student"));
    assertEquals("teacher", Role.TEACHER.toString());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Role.parse("boss"));
    assertEquals("role : boss (expected: teacher or student)", e.getMessage());
  }

  @Test
  void manifest_text_on_disk_is_what_the_record_says() throws IOException {
    ModelStore store = ModelStore.open(root);
    ModelVersion v =
        store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    String text = Files.readString(v.manifestFile(), StandardCharsets.UTF_8);
    assertEquals(v.manifest(), Manifest.fromJson(text));
    Set<String> keys =
        new TreeSet<>(
            Manifest.MAPPER.readTree(text).properties().stream()
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet()));
    assertEquals(
        new TreeSet<>(
            List.of("name", "version", "role", "parent", "sha256", "size", "created", "metrics")),
        keys);
  }

  private static List<Long> versionNumbers(ModelStore store, String name) {
    return store.versions(name).stream().map(ModelVersion::version).toList();
  }

  private List<String> tmpEntries() throws IOException {
    try (Stream<Path> s = Files.list(root.resolve("tmp"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
