package ai.distill.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The {@code manifest.json} of one stored model version: identity, role, lineage, integrity and
 * free-form metrics.
 *
 * <pre>{@code
 * {"name": "ctr-int8", "version": 3, "role": "student", "parent": "ctr:1",
 *  "sha256": "9f86d0...", "size": 81234, "created": "2026-11-27T21:00:00Z",
 *  "metrics": {"auc": 0.801, "quantization": {"method": "percentile"}}}
 * }</pre>
 *
 * Keys are snake_case; unknown keys are ignored on read so later versions may add fields. Immutable
 * (the top-level metrics map is unmodifiable; nested values are whatever Jackson produced).
 *
 * @param parent lineage: {@code "name:version"} or {@code "name"} of the model this one was derived
 *     from, or null
 * @param metrics free-form JSON-compatible values (numbers, strings, booleans, nested maps and
 *     lists); never null
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
    String name,
    long version,
    Role role,
    String parent,
    String sha256,
    long size,
    @JsonSerialize(using = InstantAsString.class) @JsonDeserialize(using = InstantFromString.class)
        Instant created,
    Map<String, Object> metrics) {

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  /** The mapper used for manifests: snake_case, unknown keys ignored, indented output. */
  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .enable(SerializationFeature.INDENT_OUTPUT);

  public Manifest {
    ModelStore.checkName(name);
    if (version < 1) {
      throw new IllegalArgumentException("version : " + version + " (expected: >= 1)");
    }
    Objects.requireNonNull(role, "role");
    if (sha256 == null || !SHA256.matcher(sha256).matches()) {
      throw new IllegalArgumentException(
          "sha256 : " + sha256 + " (expected: 64 lowercase hex digits)");
    }
    if (size < 0) {
      throw new IllegalArgumentException("size : " + size + " (expected: >= 0)");
    }
    Objects.requireNonNull(created, "created");
    metrics =
        metrics == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** A copy with other metrics (for example after an evaluation). */
  public Manifest withMetrics(Map<String, Object> newMetrics) {
    return new Manifest(name, version, role, parent, sha256, size, created, newMetrics);
  }

  /** {@code "name:version"}. */
  public String id() {
    return name + ":" + version;
  }

  /** This manifest as indented JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "manifest of " + id() + " is not serialisable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Parses a manifest.
   *
   * @throws IllegalArgumentException when the JSON is malformed or a field is missing or invalid
   */
  public static Manifest fromJson(String json) {
    try {
      return MAPPER.readValue(json, Manifest.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("manifest is not valid: " + rootMessage(e), e);
    }
  }

  /**
   * Reads and parses a manifest file.
   *
   * @throws IllegalArgumentException when the file is not a valid manifest (the message names the
   *     file)
   * @throws UncheckedIOException when the file cannot be read
   */
  public static Manifest read(Path file) {
    try {
      return MAPPER.readValue(Files.readAllBytes(file), Manifest.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "manifest " + file + " is not valid: " + rootMessage(e), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifest " + file + ": " + e, e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    if (t instanceof JsonProcessingException jpe) {
      return jpe.getOriginalMessage();
    }
    return t.getMessage();
  }

  /** ISO-8601 instants without the jsr310 module (keeps the store dependency-light). */
  static final class InstantAsString extends StdSerializer<Instant> {
    private static final long serialVersionUID = 1L;

    InstantAsString() {
      super(Instant.class);
    }

    @Override
    public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeString(value.toString());
    }
  }

  static final class InstantFromString extends StdDeserializer<Instant> {
    private static final long serialVersionUID = 1L;

    InstantFromString() {
      super(Instant.class);
    }

    @Override
    public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken().isNumeric()) {
        return Instant.ofEpochMilli(p.getLongValue());
      }
      String text = p.getValueAsString();
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        return (Instant)
            ctxt.handleWeirdStringValue(
                Instant.class, text, "expected an ISO-8601 instant such as 2026-11-27T21:00:00Z");
      }
    }
  }
}
