package ai.distill.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The files of one stored version: reading a version directory into a {@link ModelVersion} (only
 * complete versions whose manifest names them; anything else is skipped with one warning) and
 * checking the model file against its manifest's sha256 and size, and the next version number (the
 * highest directory or the {@code .highwater} mark, so removed numbers are not reused).
 * Thread-safe.
 */
final class VersionFiles {

  private static final System.Logger LOG = System.getLogger(ModelStore.class.getName());

  static final Pattern VERSION_DIR = Pattern.compile("[1-9][0-9]{0,17}");
  private static final String HIGH_WATER_FILE = ".highwater";

  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  Optional<ModelVersion> load(String name, long version, Path dir) {
    Path manifestFile = dir.resolve(ModelVersion.MANIFEST_FILE);
    if (!Files.isRegularFile(dir.resolve(ModelVersion.MODEL_FILE))
        || !Files.isRegularFile(manifestFile)) {
      return Optional.empty();
    }
    Manifest m;
    try {
      m = Manifest.read(manifestFile);
    } catch (IllegalArgumentException e) {
      warnOnce(manifestFile, "ignoring " + name + ":" + version + ": " + e.getMessage());
      return Optional.empty();
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof NoSuchFileException) {
        return Optional.empty(); // removed concurrently
      }
      warnOnce(manifestFile, "ignoring " + name + ":" + version + ": " + e.getMessage());
      return Optional.empty();
    }
    if (!m.name().equals(name) || m.version() != version) {
      warnOnce(
          manifestFile,
          "ignoring "
              + name
              + ":"
              + version
              + ": its manifest "
              + manifestFile
              + " describes "
              + m.id()
              + " (expected: "
              + name
              + ":"
              + version
              + ")");
      return Optional.empty();
    }
    return Optional.of(new ModelVersion(name, version, dir, m));
  }

  void warnOnce(Path file, String message) {
    if (warned.add(file + "|" + message)) {
      LOG.log(System.Logger.Level.WARNING, message);
    }
  }

  static ModelVersion verify(ModelVersion v) {
    Objects.requireNonNull(v, "v");
    Manifest m = v.manifest();
    Path file = v.modelFile();
    DurableFiles.Digest actual;
    try {
      actual = DurableFiles.digest(file);
    } catch (NoSuchFileException e) {
      throw new IntegrityException(
          "model file "
              + file
              + " of "
              + v.id()
              + " is missing (expected sha256 "
              + m.sha256()
              + ", "
              + m.size()
              + " bytes)",
          file,
          m.sha256(),
          null);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read model file " + file + " of " + v.id() + ": " + e, e);
    }
    if (!actual.sha256().equals(m.sha256()) || actual.size() != m.size()) {
      throw new IntegrityException(
          "model file "
              + file
              + " of "
              + v.id()
              + " is corrupt: expected sha256 "
              + m.sha256()
              + " ("
              + m.size()
              + " bytes), actual sha256 "
              + actual.sha256()
              + " ("
              + actual.size()
              + " bytes)",
          file,
          m.sha256(),
          actual.sha256());
    }
    return v;
  }

  /** One more than the highest version ever published in {@code modelDir}. */
  long nextVersion(Path modelDir) throws IOException {
    long max = 0;
    for (Path dir : ModelStore.list(modelDir)) {
      String d = dir.getFileName().toString();
      if (VERSION_DIR.matcher(d).matches()) {
        max = Math.max(max, Long.parseLong(d));
      }
    }
    Path hw = modelDir.resolve(HIGH_WATER_FILE);
    try {
      max = Math.max(max, Long.parseLong(Files.readString(hw).trim()));
    } catch (NoSuchFileException e) {
      // no history yet
    } catch (NumberFormatException e) {
      warnOnce(hw, "ignoring unreadable " + hw);
    }
    return max + 1;
  }

  /**
   * Remembers the highest number ever published so removing the latest version does not free its
   * number.
   */
  static void recordHighWater(TmpArea.Slot slot, Path modelDir, long version) {
    try {
      Files.createDirectories(slot.dir);
      Path staged = slot.dir.resolve(HIGH_WATER_FILE);
      Files.writeString(staged, Long.toString(version));
      Files.move(
          staged,
          modelDir.resolve(HIGH_WATER_FILE),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.log(
          System.Logger.Level.DEBUG, "cannot record the version high-water mark in " + modelDir, e);
    }
  }
}
