package ai.distill.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Versioned ONNX models on disk, published atomically and checked by sha256.
 *
 * <pre>{@code
 * ModelStore store = ModelStore.open(Path.of("store"));
 * ModelVersion v = store.publish(PublishRequest.fromFile("ctr", Path.of("ctr.onnx"), Role.TEACHER));
 * ModelVersion latest = store.verify(store.resolve("ctr"));   // or "ctr:1"
 * }</pre>
 *
 * Layout: {@code <root>/models/<name>/<version>/{model.onnx,manifest.json}} with versions 1, 2,
 * 3... A version is written into {@code <root>/tmp/<random>/}, fsynced, then renamed into place in
 * one atomic step, so readers (in this or another process) see a version completely or not at all,
 * even after {@code kill -9}. Version numbers are never reused while the model directory exists.
 * Thread-safe; instances are cheap and hold no open files.
 */
public final class ModelStore {

  private static final System.Logger LOG = System.getLogger(ModelStore.class.getName());
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final int MAX_PUBLISH_ATTEMPTS = 1000;

  private final Path root;
  private final Path models;
  private final Path tmp;
  private final TmpArea tmpArea;
  private final Map<String, ReentrantLock> nameLocks = new ConcurrentHashMap<>();
  private final VersionFiles files = new VersionFiles();

  private ModelStore(Path root) {
    this.root = root;
    this.models = root.resolve("models");
    this.tmp = root.resolve("tmp");
    this.tmpArea = new TmpArea(tmp);
  }

  /**
   * Opens (creating if needed) the store at {@code root} and removes temporary directories that
   * crashed publishers left behind (never those of a publisher that is still running, in any
   * process).
   *
   * @throws UncheckedIOException when the directories cannot be created
   */
  public static ModelStore open(Path root) {
    Objects.requireNonNull(root, "root");
    ModelStore store = new ModelStore(root.toAbsolutePath().normalize());
    try {
      Files.createDirectories(store.models);
      Files.createDirectories(store.tmp);
      Files.createDirectories(store.capturesDir());
      Files.createDirectories(store.experimentsDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the model store at " + root + ": " + e, e);
    }
    store.tmpArea.clean();
    return store;
  }

  /**
   * Checks a model name and returns it.
   *
   * @throws IllegalArgumentException when it is not 1-128 letters, digits, '.', '_' or '-' starting
   *     with a letter or digit
   */
  public static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name : "
              + name
              + " (expected: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)");
    }
    return name;
  }

  /** The store's root directory (absolute). */
  public Path root() {
    return root;
  }

  /** {@code <root>/captures}, where the gateway writes traffic capture segments. */
  public Path capturesDir() {
    return root.resolve("captures");
  }

  /** {@code <root>/experiments}, where the gateway keeps experiment definitions and state. */
  public Path experimentsDir() {
    return root.resolve("experiments");
  }

  /** Names of the models that have at least one complete version, sorted. */
  public List<String> modelNames() {
    List<String> names = new ArrayList<>();
    for (String n : candidateNames()) {
      if (!versions(n).isEmpty()) {
        names.add(n);
      }
    }
    return names;
  }

  /**
   * The complete versions of a model, ascending; empty when the model does not exist. A version
   * directory without both files or with an invalid manifest is not listed (a warning is logged
   * once).
   */
  public List<ModelVersion> versions(String name) {
    checkName(name);
    TreeMap<Long, ModelVersion> found = new TreeMap<>();
    for (Path dir : list(models.resolve(name))) {
      String d = dir.getFileName().toString();
      if (VersionFiles.VERSION_DIR.matcher(d).matches()) {
        long v = Long.parseLong(d);
        load(name, v, dir).ifPresent(mv -> found.put(v, mv));
      }
    }
    return List.copyOf(found.values());
  }

  /** Every complete version of every model, by name then version. */
  public List<ModelVersion> allVersions() {
    List<ModelVersion> all = new ArrayList<>();
    for (String n : candidateNames()) {
      all.addAll(versions(n));
    }
    return all;
  }

  /**
   * Directory names under models/ that are valid model names, sorted (they may hold no complete
   * version).
   */
  private List<String> candidateNames() {
    List<String> names = new ArrayList<>();
    for (Path dir : list(models)) {
      String n = dir.getFileName().toString();
      if (NAME.matcher(n).matches() && Files.isDirectory(dir)) {
        names.add(n);
      }
    }
    names.sort(Comparator.naturalOrder());
    return names;
  }

  /** The highest complete version of a model. */
  public Optional<ModelVersion> latest(String name) {
    List<ModelVersion> vs = versions(name);
    return vs.isEmpty() ? Optional.empty() : Optional.of(vs.get(vs.size() - 1));
  }

  /** One complete version, if present. */
  public Optional<ModelVersion> find(String name, long version) {
    checkName(name);
    if (version < 1) {
      return Optional.empty();
    }
    return load(name, version, models.resolve(name).resolve(Long.toString(version)));
  }

  /**
   * Resolves {@code "name"} (the latest version), {@code "name:latest"} or {@code "name:version"}.
   *
   * @throws IllegalArgumentException when the spec is malformed
   * @throws ModelNotFoundException when the model or version does not exist; the message lists what
   *     does
   */
  public ModelVersion resolve(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("model : " + spec + " (expected: name or name:version)");
    }
    int colon = spec.lastIndexOf(':');
    String name = colon < 0 ? spec : spec.substring(0, colon);
    String ver = colon < 0 ? "latest" : spec.substring(colon + 1);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "model : "
              + spec
              + " (expected: name or name:version, where name is"
              + " 1-128 letters, digits, '.', '_' or '-')");
    }
    if (ver.equals("latest")) {
      return latest(name)
          .orElseThrow(
              () ->
                  new ModelNotFoundException(
                      "model '"
                          + name
                          + "' not found in store "
                          + root
                          + " (models: "
                          + describe(modelNames())
                          + ")"));
    }
    long v;
    try {
      v = Long.parseLong(ver);
    } catch (NumberFormatException e) {
      v = -1;
    }
    if (v < 1) {
      throw new IllegalArgumentException(
          "model : " + spec + " (expected: name or name:version with a version >= 1)");
    }
    long version = v;
    return find(name, version)
        .orElseThrow(
            () -> {
              List<ModelVersion> vs = versions(name);
              if (vs.isEmpty()) {
                return new ModelNotFoundException(
                    "model '"
                        + name
                        + "' not found in store "
                        + root
                        + " (models: "
                        + describe(modelNames())
                        + ")");
              }
              return new ModelNotFoundException(
                  "model version "
                      + name
                      + ":"
                      + version
                      + " not found in store "
                      + root
                      + " (versions of "
                      + name
                      + ": "
                      + describe(vs.stream().map(mv -> Long.toString(mv.version())).toList())
                      + ")");
            });
  }

  /**
   * Publishes a new version with the next free number, atomically: the model and its manifest are
   * written and fsynced in {@code <root>/tmp}, then the directory is renamed into place. Concurrent
   * publishers (threads or processes) get distinct versions.
   *
   * @throws UncheckedIOException when the source cannot be read or the store cannot be written;
   *     nothing is published then
   */
  public ModelVersion publish(PublishRequest req) {
    Objects.requireNonNull(req, "req");
    String name = req.name();
    Path modelDir = models.resolve(name);
    try (TmpArea.Slot slot = tmpArea.newSlot()) {
      Path staged = slot.dir;
      DurableFiles.Digest digest;
      try (InputStream in =
          req.sourceFile() != null
              ? Files.newInputStream(req.sourceFile())
              : new ByteArrayInputStream(req.bytes())) {
        digest = DurableFiles.writeSynced(in, staged.resolve(ModelVersion.MODEL_FILE));
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException(
            "sourceFile : " + req.sourceFile() + " (expected: an existing ONNX file)", e);
      }
      Instant created = Instant.now();
      ReentrantLock lock = nameLocks.computeIfAbsent(name, k -> new ReentrantLock());
      lock.lock();
      try {
        long version = files.nextVersion(models.resolve(name));
        for (int attempt = 1; ; attempt++) {
          Manifest manifest =
              new Manifest(
                  name,
                  version,
                  req.role(),
                  req.parent(),
                  digest.sha256(),
                  digest.size(),
                  created,
                  req.metrics());
          Path manifestFile = staged.resolve(ModelVersion.MANIFEST_FILE);
          Files.deleteIfExists(manifestFile);
          DurableFiles.writeSynced(
              manifest.toJson().getBytes(StandardCharsets.UTF_8), manifestFile);
          DurableFiles.syncDir(staged);
          if (Files.notExists(modelDir)) {
            Files.createDirectories(modelDir);
            DurableFiles.syncDir(models);
          }
          Path target = modelDir.resolve(Long.toString(version));
          try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
          } catch (FileSystemException e) {
            // another process took this number (or removed the model dir meanwhile): try the next
            // one
            if (attempt >= MAX_PUBLISH_ATTEMPTS
                || !(Files.exists(target) || Files.notExists(modelDir))) {
              throw e;
            }
            version = Math.max(version + 1, files.nextVersion(models.resolve(name)));
            continue;
          }
          DurableFiles.syncDir(modelDir);
          VersionFiles.recordHighWater(slot, modelDir, version);
          LOG.log(
              System.Logger.Level.INFO,
              "published {0} ({1} bytes, sha256 {2})",
              manifest.id(),
              manifest.size(),
              manifest.sha256());
          return new ModelVersion(name, version, target, manifest);
        }
      } finally {
        lock.unlock();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish " + name + " to store " + root + ": " + e, e);
    }
  }

  /**
   * Removes one version; it disappears from listings atomically, then its files are deleted. Its
   * number is not reused while the model has other versions or history.
   *
   * @throws ModelNotFoundException when the version does not exist
   */
  public void remove(String name, long version) {
    checkName(name);
    Path dir = models.resolve(name).resolve(Long.toString(version));
    if (version < 1 || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelNotFoundException(
          "model version " + name + ":" + version + " not found in store " + root);
    }
    moveAwayAndDelete(dir, name + ":" + version);
  }

  /**
   * Removes a model with all its versions (and its version history: a later publish starts again at
   * 1).
   *
   * @throws ModelNotFoundException when the model does not exist
   */
  public void removeModel(String name) {
    checkName(name);
    Path dir = models.resolve(name);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ModelNotFoundException(
          "model '"
              + name
              + "' not found in store "
              + root
              + " (models: "
              + describe(modelNames())
              + ")");
    }
    ReentrantLock lock = nameLocks.computeIfAbsent(name, k -> new ReentrantLock());
    lock.lock();
    try {
      moveAwayAndDelete(dir, name);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Recomputes the sha256 and size of the version's model file and compares them with its manifest.
   *
   * @return {@code v}, for chaining
   * @throws IntegrityException when they differ or the file is missing; the message names the file,
   *     the expected and the actual digest
   */
  public ModelVersion verify(ModelVersion v) {
    return VersionFiles.verify(v);
  }

  /**
   * Starts watching the store for complete versions that appear or disappear. Existing versions are
   * not reported (list them yourself after this call returns; a version published in between may be
   * both listed and reported, so handle ADDED idempotently). See {@link StoreWatcher} for the
   * threading contract.
   */
  public StoreWatcher watch(Consumer<StoreEvent> listener, Duration pollInterval) {
    return watch(listener, pollInterval, false);
  }

  /**
   * As {@link #watch(Consumer, Duration)}; with {@code emitExisting} the first scan reports every
   * existing version as ADDED (on the watcher thread).
   */
  public StoreWatcher watch(
      Consumer<StoreEvent> listener, Duration pollInterval, boolean emitExisting) {
    return new StoreWatcher(this, listener, pollInterval, emitExisting);
  }

  @Override
  public String toString() {
    return "ModelStore[" + root + "]";
  }

  /**
   * id ("name:version") to an identity that changes when a version number is reused; for the
   * watcher.
   */
  Map<String, String> snapshot() {
    Map<String, String> snap = new LinkedHashMap<>();
    for (ModelVersion v : allVersions()) {
      snap.put(v.id(), v.manifest().sha256() + "@" + v.manifest().created());
    }
    return snap;
  }

  private Optional<ModelVersion> load(String name, long version, Path dir) {
    return files.load(name, version, dir);
  }

  private void warnOnce(Path file, String message) {
    files.warnOnce(file, message);
  }

  private void moveAwayAndDelete(Path dir, String what) {
    try (TmpArea.Slot slot = tmpArea.newSlot()) {
      Files.delete(slot.dir);
      try {
        Files.move(dir, slot.dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (NoSuchFileException e) {
        throw new ModelNotFoundException(
            what + " not found in store " + root + " (removed concurrently)");
      }
      DurableFiles.syncDir(dir.getParent());
      LOG.log(System.Logger.Level.INFO, "removed {0}", what);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + what + " from store " + root + ": " + e, e);
    }
  }

  static List<Path> list(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        out.add(p);
      }
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e, e);
    }
    return out;
  }

  private static String describe(List<String> items) {
    if (items.isEmpty()) {
      return "none";
    }
    return items.size() <= 20
        ? String.join(", ", items)
        : String.join(", ", items.subList(0, 20)) + ", ... (" + items.size() + " in all)";
  }
}
