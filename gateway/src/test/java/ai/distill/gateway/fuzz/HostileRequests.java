package ai.distill.gateway.fuzz;

import io.vertx.core.http.HttpMethod;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators of hostile requests, one family per API surface. Every family mixes structural
 * attacks (truncated and broken JSON, deep nesting, random bytes) with semantic ones (wrong
 * datatypes, shapes whose products overflow, negative dimensions, million-element claims with tiny
 * bodies, binary sizes that lie, non-finite and huge numbers, unicode and path traversal in names).
 * Pure: no I/O.
 */
final class HostileRequests {

  private HostileRequests() {}

  /** A valid JSON inference request for the tiny CTR model (2 rows). */
  static final String VALID_INFER =
      "{\"id\":\"v\",\"inputs\":[{\"name\":\"dense\",\"datatype\":\"FP32\",\"shape\":[2,3],"
          + "\"data\":[0.5,-1.25,2,1,0,-0.5]},{\"name\":\"sparse\",\"datatype\":\"INT64\","
          + "\"shape\":[2,2],\"data\":[1,9,0,3]}],\"outputs\":[{\"name\":\"prob\"}]}";

  // ---- building blocks ----

  /** Names no model, experiment or job has: traversal, unicode, control characters, long. */
  static final Arbitrary<String> FIXED_NAMES =
      Arbitraries.of(
          "..",
          "../ctr",
          "../../../../etc/passwd",
          "..\\..\\windows",
          "/etc/passwd",
          "ctr/../ctr-b",
          "ctr\u0000",
          "\u0000",
          "ctr ",
          " ",
          "CON",
          "模型",
          "ctr\u202e",
          "😀",
          "%2e%2e%2f",
          "a\nb",
          "ctr;rm -rf",
          "${jndi:ldap://x}",
          "ctr:1",
          "-1");

  static Arbitrary<String> hostileNames() {
    return Arbitraries.oneOf(
            FIXED_NAMES,
            Arbitraries.strings().all().ofMinLength(1).ofMaxLength(40),
            Arbitraries.strings()
                .withChars('a', '.', '/', '\\', '%', '0')
                .ofMinLength(1)
                .ofMaxLength(12),
            Arbitraries.strings().alpha().ofLength(300))
        .filter(n -> !FuzzGateway.RESERVED.contains(n));
  }

  /**
   * True for a name that is legal (the store's pattern) and so may name a model by the time it is
   * used: the admin fuzz's optimize jobs publish models under generated names.
   */
  static boolean mayExist(String name) {
    return name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  }

  /** True for a JSON string that is a legal model or experiment name (the store's pattern). */
  static boolean isLegalName(String json) {
    return json.matches("\"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\"");
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** JSON values that are wrong wherever a specific type is expected. */
  static Arbitrary<String> hostileValues() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "null",
            "true",
            "{}",
            "[]",
            "\"\"",
            "-1",
            "0",
            "1e999",
            "-1e999",
            "\"NaN\"",
            "\"Infinity\"",
            "NaN",
            "-Infinity",
            "1.5",
            "9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890123456789012345678901234567890",
            "0.000000000000000000000000000000000000000000000000001e-400",
            "[[[[[[[[[[1]]]]]]]]]]",
            "{\"a\":{\"b\":{\"c\":[]}}}",
            "\"\\u0000\"",
            "\"\\ud800\""),
        hostileNames().map(HostileRequests::quote),
        deepNesting(1, 3000));
  }

  static Arbitrary<String> deepNesting(int min, int max) {
    return Combinators.combine(
            Arbitraries.integers().between(min, max), Arbitraries.of("[", "{\"a\":", "[{\"x\":"))
        .as(
            (depth, open) -> {
              StringBuilder b = new StringBuilder(open.repeat(depth)).append("1");
              String close =
                  switch (open) {
                    case "[" -> "]";
                    case "{\"a\":" -> "}";
                    default -> "}]";
                  };
              return b.append(close.repeat(depth)).toString();
            });
  }

  /** Truncations and byte-level damage of a valid JSON document. */
  static Arbitrary<String> broken(String valid) {
    Arbitrary<String> truncated =
        Arbitraries.integers().between(0, valid.length() - 1).map(n -> valid.substring(0, n));
    Arbitrary<String> garbage =
        Arbitraries.oneOf(
            Arbitraries.strings().all().ofMaxLength(200),
            Arbitraries.strings()
                .withChars("{}[]\",:0123456789eE.-+ntrufalsNI\\")
                .ofMaxLength(200));
    Arbitrary<String> spliced =
        Combinators.combine(
                Arbitraries.integers().between(0, valid.length() - 1),
                Arbitraries.strings().withChars("{}[]\",:\\").ofMinLength(1).ofMaxLength(3))
            .as((at, junk) -> valid.substring(0, at) + junk + valid.substring(at));
    return Arbitraries.oneOf(truncated, garbage, spliced);
  }

  // ---- infer, JSON ----

  static Arbitrary<Hostile> inferJson() {
    Arbitrary<String> uri =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.just("/v2/models/ctr/infer")),
            net.jqwik.api.Tuple.of(2, Arbitraries.just("/v2/models/ab/infer")),
            net.jqwik.api.Tuple.of(1, Arbitraries.just("/v2/models/ctr/versions/1/infer")));
    Arbitrary<Hostile> brokenBody =
        Combinators.combine(uri, broken(VALID_INFER))
            .as((u, b) -> Hostile.post("infer-json/broken", u, b).maybeValid());
    Arbitrary<Hostile> badField =
        Combinators.combine(uri, inputField(), hostileValues())
            .as(
                (u, field, value) -> {
                  Hostile h = Hostile.post("infer-json/field", u, withDenseField(field, value));
                  return field.equals("parameters") ? h.maybeValid() : h;
                });
    Arbitrary<Hostile> badShape =
        Combinators.combine(uri, hostileShapes())
            .as((u, shape) -> Hostile.post("infer-json/shape", u, withDenseField("shape", shape)));
    Arbitrary<Hostile> badData =
        Combinators.combine(uri, hostileData())
            .as((u, data) -> Hostile.post("infer-json/data", u, withDenseField("data", data)));
    Arbitrary<Hostile> badDatatype =
        Combinators.combine(
                uri,
                Arbitraries.of(
                    "\"FP64\"",
                    "\"FP16\"",
                    "\"INT64\"",
                    "\"BOOL\"",
                    "\"BYTES\"",
                    "\"fp32\"",
                    "\"FLOAT\"",
                    "\"\"",
                    "\"FP32 \"",
                    "\"UINT8\""))
            .as((u, dt) -> Hostile.post("infer-json/datatype", u, withDenseField("datatype", dt)));
    Arbitrary<Hostile> badName =
        Combinators.combine(uri, hostileNames())
            .as(
                (u, n) ->
                    Hostile.post("infer-json/input-name", u, withDenseField("name", quote(n))));
    Arbitrary<Hostile> badTopLevel =
        Combinators.combine(
                uri, Arbitraries.of("inputs", "outputs", "parameters", "id"), hostileValues())
            .as(
                (u, key, value) -> {
                  String body =
                      key.equals("inputs")
                          ? "{\"inputs\":" + value + "}"
                          : VALID_INFER.substring(0, VALID_INFER.length() - 1)
                              + ",\""
                              + key
                              + "2\":0,\""
                              + (key.equals("id") ? "id" : key)
                              + "\":"
                              + value
                              + "}";
                  // a duplicate or odd-typed id/parameters may be accepted: only never a 5xx
                  Hostile h = Hostile.post("infer-json/top", u, body);
                  return key.equals("inputs") ? h : h.maybeValid();
                });
    Arbitrary<Hostile> badModel =
        hostileNames()
            .map(
                n -> {
                  Hostile h =
                      Hostile.post(
                          "infer-json/model-name",
                          "/v2/models/" + encode(n) + "/infer",
                          VALID_INFER);
                  // a legal name may be an experiment a maybe-valid fuzz request created
                  return isLegalName(quote(n)) ? h.maybeValid() : h;
                });
    Arbitrary<Hostile> badVersion =
        Arbitraries.of("0", "-1", "99999999999999999999", "1.0", "x", "%20", "1e3")
            .map(
                v ->
                    Hostile.post(
                        "infer-json/version",
                        "/v2/models/ctr/versions/" + v + "/infer",
                        VALID_INFER));
    return Arbitraries.oneOf(
        brokenBody,
        badField,
        badShape,
        badData,
        badDatatype,
        badName,
        badTopLevel,
        badModel,
        badVersion);
  }

  static Arbitrary<String> inputField() {
    return Arbitraries.of("name", "datatype", "shape", "data", "parameters");
  }

  /** The valid request with one field of its {@code dense} input replaced by raw JSON. */
  static String withDenseField(String field, String rawValue) {
    Map<String, String> dense = new LinkedHashMap<>();
    dense.put("name", "\"dense\"");
    dense.put("datatype", "\"FP32\"");
    dense.put("shape", "[2,3]");
    dense.put("data", "[0.5,-1.25,2,1,0,-0.5]");
    dense.put(field, rawValue);
    StringBuilder b = new StringBuilder("{\"inputs\":[{");
    boolean first = true;
    for (Map.Entry<String, String> e : dense.entrySet()) {
      b.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
      first = false;
    }
    return b.append(
            "},{\"name\":\"sparse\",\"datatype\":\"INT64\",\"shape\":[2,2],\"data\":[1,9,0,3]}]}")
        .toString();
  }

  static Arbitrary<String> hostileShapes() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "[-1,3]",
            "[2,-3]",
            "[0,3]",
            "[2]",
            "[]",
            "[2,3,1]",
            "[4611686018427387904,4]",
            "[9223372036854775807,9223372036854775807]",
            "[2147483647,2147483647]",
            "[1000000,3]",
            "[333333,3]",
            "[2,3.5]",
            "[\"2\",3]",
            "[2,null]",
            "[2,1e400]",
            "[2,3," + "1,".repeat(40) + "1]"),
        Arbitraries.longs()
            .list()
            .ofMinSize(1)
            .ofMaxSize(6)
            .filter(dims -> !(dims.size() == 2 && dims.get(0) == 2 && dims.get(1) == 3))
            .map(List::toString));
  }

  static Arbitrary<String> hostileData() {
    Arbitrary<String> element =
        Arbitraries.of(
            "\"NaN\"",
            "\"Infinity\"",
            "\"-Infinity\"",
            "NaN",
            "Infinity",
            "1e39",
            "-3.5e38",
            "1e999",
            "\"1\"",
            "true",
            "null",
            "{}",
            "[]",
            "[1,2]");
    Arbitrary<String> oneBad =
        Combinators.combine(Arbitraries.integers().between(0, 5), element)
            .as(
                (at, bad) -> {
                  String[] values = {"0.5", "-1.25", "2", "1", "0", "-0.5"};
                  values[at] = bad;
                  return "[" + String.join(",", values) + "]";
                });
    return Arbitraries.oneOf(
        oneBad,
        Arbitraries.of("[0.5,1]", "[]", "[[0.5,1,2],[1,0]]", "[0.5,1,2,3,4,5,6]", "\"abc\"", "{}"),
        deepNesting(10, 5000),
        Arbitraries.integers().between(7, 30_000).map(n -> "[" + "1,".repeat(n) + "1]"));
  }

  // ---- infer, binary tensor extension ----

  static Arbitrary<Hostile> inferBinary() {
    return Combinators.combine(
            Arbitraries.integers().between(-30, 30),
            Arbitraries.of(
                "ok", "negative", "huge", "fraction", "string", "missing-header", "header-lies"),
            Arbitraries.integers().between(-5, 5),
            Arbitraries.of("[2,3]", "[1000000,3]", "[4611686018427387904,4]", "[2,-3]"),
            Arbitraries.of("/v2/models/ctr/infer", "/v2/models/ab/infer"))
        .as(HostileRequests::binary)
        .filter(h -> h != null);
  }

  // dense as binary (24 bytes for [2,3]), sparse as JSON; sizes and header lengths lie.
  static Hostile binary(int sizeDelta, String sizeKind, int headerDelta, String shape, String uri) {
    boolean honest =
        sizeDelta == 0 && sizeKind.equals("ok") && headerDelta == 0 && shape.equals("[2,3]");
    if (honest) {
      return null;
    }
    String size =
        switch (sizeKind) {
          case "negative" -> "-24";
          case "huge" -> "1099511627776";
          case "fraction" -> "24.5";
          case "string" -> "\"24\"";
          default -> Integer.toString(24 + sizeDelta);
        };
    String json =
        "{\"inputs\":[{\"name\":\"dense\",\"datatype\":\"FP32\",\"shape\":"
            + shape
            + ",\"parameters\":{\"binary_data_size\":"
            + size
            + "}},{\"name\":\"sparse\",\"datatype\":\"INT64\",\"shape\":[2,2],\"data\":[1,9,0,3]}]}";
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    int binaryBytes = Math.max(0, 24 + (sizeKind.equals("ok") ? 0 : sizeDelta));
    byte[] body = new byte[head.length + binaryBytes];
    System.arraycopy(head, 0, body, 0, head.length);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/octet-stream");
    if (!sizeKind.equals("missing-header")) {
      headers.put(
          "Inference-Header-Content-Length",
          sizeKind.equals("header-lies")
              ? List.of("abc", "-1", "+5", " ", "99999999999", "1e3")
                  .get(Math.floorMod(headerDelta, 6))
              : Integer.toString(head.length + headerDelta * 7));
    }
    return new Hostile("infer-binary", HttpMethod.POST, uri, headers, body, true);
  }

  // ---- feedback ----

  static Arbitrary<Hostile> feedback() {
    String valid = "{\"id\":\"00000000-0000-0000-0000-000000000000\",\"clicks\":[1,0]}";
    Arbitrary<Hostile> brokenBody =
        broken(valid).map(b -> Hostile.post("feedback/broken", "/v1/feedback", b));
    Arbitrary<Hostile> badId =
        hostileValues()
            .map(
                v ->
                    Hostile.post(
                        "feedback/id", "/v1/feedback", "{\"id\":" + v + ",\"clicks\":[1,0]}"));
    Arbitrary<Hostile> badClicks =
        Arbitraries.oneOf(
                hostileValues(),
                Arbitraries.of("[2]", "[-1]", "[\"1\"]", "[0.5]", "[1e999]", "[[1]]", "[null]"),
                Arbitraries.integers().between(1000, 50_000).map(n -> "[" + "1,".repeat(n) + "1]"))
            .map(
                v ->
                    Hostile.post(
                        "feedback/clicks",
                        "/v1/feedback",
                        "{\"id\":\"no-such-id\",\"clicks\":" + v + "}"));
    return Arbitraries.oneOf(brokenBody, badId, badClicks);
  }

  // ---- experiments ----

  static Arbitrary<Hostile> experiments() {
    String valid =
        "{\"name\":\"fz\",\"teacher\":\"ctr\",\"variants\":[{\"model\":\"ctr\",\"weight\":50},"
            + "{\"model\":\"ctr-b\",\"weight\":50}],\"margin\":0.99}";
    Arbitrary<Hostile> brokenBody =
        broken(valid)
            .filter(b -> !b.equals(valid))
            .map(
                b ->
                    Hostile.admin("experiments/broken", HttpMethod.POST, "/admin/v1/experiments", b)
                        .maybeValid()); // a splice inside a key is still valid JSON
    Arbitrary<Hostile> badField =
        Combinators.combine(
                Arbitraries.of("name", "teacher", "variants", "margin", "weight", "model"),
                Arbitraries.oneOf(hostileValues(), FIXED_NAMES.map(HostileRequests::quote)))
            .as(
                (field, v) -> {
                  String body =
                      switch (field) {
                        case "weight" -> valid.replace("\"weight\":50}", "\"weight\":" + v + "}");
                        case "model" -> valid.replace("\"model\":\"ctr-b\"", "\"model\":" + v);
                        case "name" -> valid.replace("\"name\":\"fz\"", "\"name\":" + v);
                        case "teacher" -> valid.replace("\"teacher\":\"ctr\"", "\"teacher\":" + v);
                        case "margin" -> valid.replace("\"margin\":0.99", "\"margin\":" + v);
                        default -> "{\"name\":\"fz\",\"teacher\":\"ctr\",\"variants\":" + v + "}";
                      };
                  Hostile h =
                      Hostile.admin(
                          "experiments/" + field, HttpMethod.POST, "/admin/v1/experiments", body);
                  // a hostile weight or margin may be a legal number: then only never a 5xx
                  // a hostile weight or margin may be a legal number, a string a legal name
                  return field.equals("weight") || field.equals("margin") || isLegalName(v)
                      ? h.maybeValid()
                      : h;
                });
    Arbitrary<Hostile> read =
        hostileNames()
            .map(
                n ->
                    new Hostile(
                        "experiments/read",
                        HttpMethod.GET,
                        "/v1/experiments/" + encode(n),
                        Map.of(),
                        null,
                        // a maybe-valid create may have made it; "." is a dot segment the
                        // URI normalizes away (RFC 3986 5.2.4): the path then names the list
                        !isLegalName(quote(n)) && !n.equals(".")));
    Arbitrary<Hostile> action =
        Combinators.combine(
                hostileNames(),
                Arbitraries.of(
                    "promote", "rollback", "stop", "pause", "resume", "weights", "..", "x"))
            .as(
                (n, a) -> {
                  Hostile h =
                      Hostile.admin(
                          "experiments/action",
                          HttpMethod.POST,
                          "/admin/v1/experiments/" + encode(n) + "/" + a,
                          "{}");
                  // a maybe-valid create may have made a legal name
                  return isLegalName(quote(n)) ? h.maybeValid() : h;
                });
    return Arbitraries.oneOf(brokenBody, badField, read, action);
  }

  // ---- admin ----

  static Arbitrary<Hostile> admin() {
    Arbitrary<Hostile> optimize =
        Combinators.combine(
                Arbitraries.of("source", "action", "name", "rows", "options", "canary"),
                hostileValues())
            .as(
                (field, v) -> {
                  Map<String, String> f = new LinkedHashMap<>();
                  f.put("source", "\"ctr\"");
                  f.put("action", "\"quantize\"");
                  f.put("name", "\"ctr-fz\"");
                  f.put("rows", "\"capture\"");
                  f.put(field, v);
                  if (!field.equals("action") && !field.equals("source")) {
                    f.put("action", "\"explode\""); // never a runnable job
                  }
                  StringBuilder b = new StringBuilder("{");
                  f.forEach(
                      (k, val) ->
                          b.append(b.length() > 1 ? "," : "")
                              .append('"')
                              .append(k)
                              .append("\":")
                              .append(val));
                  return Hostile.admin(
                      "admin/optimize", HttpMethod.POST, "/admin/v1/optimize", b + "}");
                });
    Arbitrary<Hostile> optimizeBroken =
        broken("{\"source\":\"ctr\",\"action\":\"explode\",\"name\":\"x\"}")
            .map(
                b ->
                    Hostile.admin(
                        "admin/optimize-broken", HttpMethod.POST, "/admin/v1/optimize", b));
    Arbitrary<Hostile> policies =
        Combinators.combine(
                Arbitraries.of("model", "min_rows", "psi_threshold", "interval"), hostileValues())
            .as(
                (field, v) -> {
                  String body =
                      field.equals("model")
                          ? "{\"model\":" + v + ",\"min_rows\":10}"
                          : "{\"model\":\"no-such-model\",\"" + field + "\":" + v + "}";
                  // a policy may name a model not loaded yet, and a huge threshold is a number:
                  // only never a 5xx
                  return Hostile.admin(
                          "admin/policies", HttpMethod.POST, "/admin/v1/policies", body)
                      .maybeValid();
                });
    Arbitrary<Hostile> byName =
        Combinators.combine(
                hostileNames(),
                Arbitraries.of(
                    "GET /admin/v1/jobs/%s",
                    "POST /admin/v1/jobs/%s/cancel",
                    "DELETE /admin/v1/policies/%s",
                    "POST /v2/repository/models/%s/load",
                    "POST /v2/repository/models/%s/unload",
                    "GET /v2/models/%s",
                    "GET /v2/models/%s/ready"))
            .as(
                (n, template) -> {
                  String[] parts = template.split(" ");
                  Hostile h =
                      Hostile.admin(
                          "admin/by-name",
                          HttpMethod.valueOf(parts[0]),
                          String.format(parts[1], encode(n)),
                          parts[0].equals("POST") ? "{}" : null);
                  // ".." and "." are resolved by URI normalisation into another (valid) path
                  return n.equals("..") || n.equals(".") ? h.maybeValid() : h;
                });
    Arbitrary<Hostile> badToken =
        Combinators.combine(
                Arbitraries.of(
                    "",
                    "Bearer",
                    "Bearer ",
                    "Bearer test-toke",
                    "Bearer test-token2",
                    "Basic dGVzdA==",
                    "bearer  x"),
                Arbitraries.of("/admin/v1/experiments", "/admin/v1/optimize", "/admin/v1/policies"))
            .as(
                (auth, uri) ->
                    new Hostile(
                        "admin/token",
                        HttpMethod.POST,
                        uri,
                        auth.isEmpty()
                            ? Map.of("Content-Type", "application/json")
                            : Map.of("Content-Type", "application/json", "Authorization", auth),
                        "{}".getBytes(StandardCharsets.UTF_8),
                        true));
    return Arbitraries.oneOf(optimize, optimizeBroken, policies, byName, badToken);
  }

  // ---- transport: oversized bodies and headers ----

  static Arbitrary<Hostile> oversized() {
    Arbitrary<Hostile> body =
        Combinators.combine(
                Arbitraries.integers()
                    .between(FuzzGateway.MAX_BODY_BYTES + 1, FuzzGateway.MAX_BODY_BYTES * 2),
                Arbitraries.of("/v2/models/ctr/infer", "/v1/feedback", "/admin/v1/experiments"))
            .as(
                (n, uri) ->
                    Hostile.admin(
                        "transport/body",
                        HttpMethod.POST,
                        uri,
                        "{\"inputs\":[" + " ".repeat(n) + "]}"));
    Arbitrary<Hostile> header =
        Arbitraries.integers()
            .between(9 * 1024, 40 * 1024)
            .map(
                n ->
                    Hostile.post("transport/header", "/v2/models/ctr/infer", VALID_INFER)
                        .withHeaders(
                            Map.of("Content-Type", "application/json", "X-Big", "a".repeat(n))));
    Arbitrary<Hostile> uri =
        Arbitraries.integers()
            .between(5 * 1024, 20 * 1024)
            .map(
                n ->
                    Hostile.post(
                        "transport/uri", "/v2/models/" + "a".repeat(n) + "/infer", VALID_INFER));
    return Arbitraries.oneOf(body, header, uri);
  }
}
