package ai.distill.store;

import java.nio.file.Path;
import java.util.Objects;

/** One complete stored version of a model: its directory and its parsed manifest. Immutable. */
public record ModelVersion(String name, long version, Path dir, Manifest manifest) {

  /** The ONNX file name inside a version directory. */
  public static final String MODEL_FILE = "model.onnx";

  /** The manifest file name inside a version directory. */
  public static final String MANIFEST_FILE = "manifest.json";

  public ModelVersion {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(manifest, "manifest");
  }

  /** {@code dir/model.onnx}. */
  public Path modelFile() {
    return dir.resolve(MODEL_FILE);
  }

  /** {@code dir/manifest.json}. */
  public Path manifestFile() {
    return dir.resolve(MANIFEST_FILE);
  }

  /** {@code "name:version"}, the form {@link ModelStore#resolve(String)} accepts. */
  public String id() {
    return name + ":" + version;
  }

  /** The model's role, from the manifest. */
  public Role role() {
    return manifest.role();
  }

  @Override
  public String toString() {
    return id();
  }
}
