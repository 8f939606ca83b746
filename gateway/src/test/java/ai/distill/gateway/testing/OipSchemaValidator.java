package ai.distill.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Validates JSON bodies against the component schemas of the Open Inference Protocol REST OpenAPI
 * spec ({@code <distill.shared.dir>/specs/open_inference_rest.yaml}), resolving its {@code $ref}s,
 * with the networknt validator (OpenAPI 3.0 schemas are checked as JSON Schema draft 4).
 * Thread-safe; compiled schemas are cached.
 *
 * <pre>{@code
 * OipSchemaValidator oip = OipSchemaValidator.loadOrSkip();          // skips the test when ../shared is absent
 * oip.assertValid("inference_response", body.toString());            // AssertionError listing every violation
 * oip.assertValidInferenceResponse(body, headerLength);              // also with binary tensor data
 * List<String> problems = oip.validate("metadata_model_response", json); // empty when valid
 * }</pre>
 */
public final class OipSchemaValidator {

  /** The spec's path under the shared directory. */
  public static final String SPEC = "specs/open_inference_rest.yaml";

  private static final String BASE = "https://distill.ai/spec/open_inference_rest.json";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final JsonSchemaFactory factory;
  private final Set<String> names;
  private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();

  private OipSchemaValidator(JsonNode document) {
    String json = document.toString();
    this.factory =
        JsonSchemaFactory.getInstance(
            SpecVersion.VersionFlag.V4, b -> b.schemaLoaders(l -> l.schemas(Map.of(BASE, json))));
    this.names = new TreeSet<>();
    document.path("components").path("schemas").fieldNames().forEachRemaining(names::add);
  }

  /** Loads the spec from a YAML file. */
  public static OipSchemaValidator load(Path yaml) {
    try (Reader r = Files.newBufferedReader(yaml, StandardCharsets.UTF_8)) {
      Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
      return new OipSchemaValidator(MAPPER.valueToTree(tree));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The spec file under the system property {@code distill.shared.dir}, or null when it is not
   * there.
   */
  public static Path specPath() {
    String dir = System.getProperty("distill.shared.dir");
    if (dir == null) return null;
    Path p = Path.of(dir).resolve(SPEC);
    return Files.isRegularFile(p) ? p : null;
  }

  /**
   * Loads the spec from {@code distill.shared.dir}; aborts (skips) the calling test when it is
   * absent.
   */
  public static OipSchemaValidator loadOrSkip() {
    Path p = specPath();
    Assumptions.assumeTrue(
        p != null,
        "OIP spec not found: set distill.shared.dir to the directory holding "
            + SPEC
            + " (was "
            + System.getProperty("distill.shared.dir")
            + ")");
    return load(p);
  }

  /**
   * The names of the spec's component schemas ({@code inference_response}, {@code
   * metadata_model_response}, ...).
   */
  public Set<String> schemaNames() {
    return names;
  }

  /**
   * Validates {@code json} against the component schema {@code schemaName}.
   *
   * @return the violations, empty when valid
   * @throws IllegalArgumentException for an unknown schema name or text that is not JSON
   */
  public List<String> validate(String schemaName, String json) {
    try {
      return validate(schemaName, MAPPER.readTree(json));
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  /** Validates a parsed JSON value against the component schema {@code schemaName}. */
  public List<String> validate(String schemaName, JsonNode json) {
    return schema(schemaName).validate(json).stream()
        .map(ValidationMessage::getMessage)
        .sorted()
        .toList();
  }

  /**
   * Asserts {@code json} satisfies {@code schemaName}; the AssertionError lists every violation.
   */
  public void assertValid(String schemaName, String json) {
    List<String> problems = validate(schemaName, json);
    if (!problems.isEmpty()) {
      throw new AssertionError("not a valid " + schemaName + ": " + problems + "\n" + json);
    }
  }

  /**
   * Validates an inference response body, pure JSON ({@code headerLength} null) or JSON header plus
   * binary tensor data. The OIP schema predates the binary extension and requires {@code data} on
   * every output; an output that carries {@code parameters.binary_data_size} instead is checked
   * with an empty {@code data} in its place.
   */
  public List<String> validateInferenceResponse(Buffer body, Integer headerLength) {
    int n = headerLength == null ? body.length() : headerLength;
    JsonNode node;
    try {
      node = MAPPER.readTree(body.getBytes(0, n));
    } catch (IOException e) {
      return List.of("not JSON: " + e.getMessage());
    }
    if (node.path("outputs").isArray()) {
      for (JsonNode out : node.path("outputs")) {
        if (out instanceof ObjectNode o
            && !o.has("data")
            && o.path("parameters").has("binary_data_size")) {
          o.set("data", MAPPER.createArrayNode());
        }
      }
    }
    return validate("inference_response", node);
  }

  /**
   * Asserts an inference response body (JSON or binary) is valid; see {@link
   * #validateInferenceResponse}.
   */
  public void assertValidInferenceResponse(Buffer body, Integer headerLength) {
    List<String> problems = validateInferenceResponse(body, headerLength);
    if (!problems.isEmpty()) {
      int n = headerLength == null ? body.length() : headerLength;
      throw new AssertionError(
          "not a valid inference_response: " + problems + "\n" + body.getString(0, n));
    }
  }

  private JsonSchema schema(String name) {
    if (!names.contains(name)) {
      throw new IllegalArgumentException("schema : " + name + " (expected one of " + names + ")");
    }
    return schemas.computeIfAbsent(
        name, n -> factory.getSchema(SchemaLocation.of(BASE + "#/components/schemas/" + n)));
  }
}
