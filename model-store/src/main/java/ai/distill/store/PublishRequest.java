package ai.distill.store;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * What to publish: a model name, the ONNX bytes (from a file or in memory; exactly one of {@code
 * sourceFile} and {@code bytes} is set), the role, the lineage and free-form metrics. Build it with
 * {@link #fromFile} or {@link #fromBytes}:
 *
 * <pre>{@code
 * ModelVersion v = store.publish(PublishRequest.fromFile("ctr-int8", quantized, Role.STUDENT, "ctr:1", metrics));
 * }</pre>
 *
 * The version number is assigned by {@link ModelStore#publish}. The byte array is not copied; do
 * not modify it while publishing.
 */
public record PublishRequest(
    String name,
    Path sourceFile,
    byte[] bytes,
    Role role,
    String parent,
    Map<String, Object> metrics) {

  public PublishRequest {
    ModelStore.checkName(name);
    if ((sourceFile == null) == (bytes == null)) {
      throw new IllegalArgumentException(
          "sourceFile : "
              + sourceFile
              + ", bytes : "
              + (bytes == null ? "null" : bytes.length + " bytes")
              + " (expected: exactly one of them)");
    }
    Objects.requireNonNull(role, "role");
    metrics = metrics == null ? Map.of() : metrics;
  }

  /** Publishes a copy of {@code file}; the source is left in place. */
  public static PublishRequest fromFile(
      String name, Path file, Role role, String parent, Map<String, Object> metrics) {
    return new PublishRequest(
        name, Objects.requireNonNull(file, "file"), null, role, parent, metrics);
  }

  /** Publishes a copy of {@code file} with no lineage and no metrics. */
  public static PublishRequest fromFile(String name, Path file, Role role) {
    return fromFile(name, file, role, null, null);
  }

  /** Publishes in-memory ONNX bytes (for example a model the optimizer just serialised). */
  public static PublishRequest fromBytes(
      String name, byte[] bytes, Role role, String parent, Map<String, Object> metrics) {
    return new PublishRequest(
        name, null, Objects.requireNonNull(bytes, "bytes"), role, parent, metrics);
  }

  /** Publishes in-memory ONNX bytes with no lineage and no metrics. */
  public static PublishRequest fromBytes(String name, byte[] bytes, Role role) {
    return fromBytes(name, bytes, role, null, null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PublishRequest r
        && name.equals(r.name)
        && Objects.equals(sourceFile, r.sourceFile)
        && Arrays.equals(bytes, r.bytes)
        && role == r.role
        && Objects.equals(parent, r.parent)
        && metrics.equals(r.metrics);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, sourceFile, Arrays.hashCode(bytes), role, parent, metrics);
  }

  @Override
  public String toString() {
    return "PublishRequest[name="
        + name
        + ", "
        + (sourceFile != null ? "sourceFile=" + sourceFile : "bytes=" + bytes.length + " bytes")
        + ", role="
        + role
        + ", parent="
        + parent
        + "]";
  }
}
