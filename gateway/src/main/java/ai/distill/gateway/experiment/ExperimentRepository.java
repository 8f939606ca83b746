package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Experiments on disk under {@code <store>/experiments/}: {@code <name>.json} (definition, weights,
 * slot ranges, counters, history) and {@code <name>.users} (per-user counts), each written to a
 * temporary file, synced and atomically renamed; promotions are also appended to {@code
 * promotions.jsonl}. The JSON is {@link ExperimentJson}'s. Methods may block: call them from a
 * worker thread. Thread-safe per experiment name.
 */
public final class ExperimentRepository {

  private final Path dir;

  public ExperimentRepository(Path experimentsDir) {
    this.dir = experimentsDir;
  }

  public Path dir() {
    return dir;
  }

  /**
   * Writes an experiment's state and ledgers atomically (ledgers first, so state never refers
   * ahead).
   */
  public void save(Experiment e) throws IOException {
    Files.createDirectories(dir);
    JsonObject state = ExperimentJson.state(e);
    Path users = dir.resolve(e.name() + ".users");
    Path usersTmp = dir.resolve(e.name() + ".users.tmp");
    try (OutputStream raw = Files.newOutputStream(usersTmp);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
      writeLedgers(e, out);
    }
    sync(usersTmp);
    move(usersTmp, users);
    Path json = dir.resolve(e.name() + ".json");
    Path jsonTmp = dir.resolve(e.name() + ".json.tmp");
    Files.write(jsonTmp, state.encodePrettily().getBytes(StandardCharsets.UTF_8));
    sync(jsonTmp);
    move(jsonTmp, json);
  }

  /**
   * Appends a promotion to {@code promotions.jsonl} (the store's record of which student replaced
   * which teacher).
   */
  public void recordPromotion(Experiment e, Decision d) throws IOException {
    Files.createDirectories(dir);
    JsonObject line =
        new JsonObject()
            .put("experiment", e.name())
            .put("teacher", e.definition().teacher())
            .put("promoted", d.variant())
            .put("decision", ExperimentJson.toJson(d));
    Files.write(
        dir.resolve("promotions.jsonl"),
        (line.encode() + "\n").getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND,
        StandardOpenOption.WRITE,
        StandardOpenOption.SYNC);
  }

  /** Deletes an experiment's files. */
  public void delete(String name) throws IOException {
    Files.deleteIfExists(dir.resolve(name + ".json"));
    Files.deleteIfExists(dir.resolve(name + ".users"));
  }

  /**
   * Loads every persisted experiment; unreadable files are reported through {@code errors} and
   * skipped. A file holding a bare definition (the admin API's body, e.g. written by an operator)
   * is returned through {@code definitions} instead, to be created.
   */
  public List<Experiment> loadAll(
      ExperimentMetrics metrics,
      int maxUsers,
      List<String> errors,
      List<ExperimentDefinition> definitions) {
    List<Experiment> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
      for (Path f : files) {
        try {
          JsonObject json = new JsonObject(Files.readString(f, StandardCharsets.UTF_8));
          String name = f.getFileName().toString().replaceFirst("\\.json$", "");
          if (json.containsKey("definition")) {
            out.add(load(name, json, metrics, maxUsers));
          } else {
            ExperimentDefinition d = ExperimentJson.definition(json);
            if (!d.name().equals(name)) {
              throw new IllegalArgumentException(
                  "name: '" + d.name() + "' (expected: '" + name + "', the file's name)");
            }
            definitions.add(d);
          }
        } catch (IOException | RuntimeException ex) {
          errors.add(f.getFileName() + ": " + ex.getMessage());
        }
      }
    } catch (IOException ex) {
      errors.add(dir + ": " + ex.getMessage());
    }
    return out;
  }

  private Experiment load(String name, JsonObject state, ExperimentMetrics metrics, int maxUsers)
      throws IOException {
    Experiment e = ExperimentJson.restore(state, metrics, maxUsers);
    Path users = dir.resolve(name + ".users");
    if (Files.exists(users)) {
      try (DataInputStream in =
          new DataInputStream(new BufferedInputStream(Files.newInputStream(users), 1 << 16))) {
        readLedgers(e, in);
      }
    }
    return e;
  }

  private static void writeLedgers(Experiment e, DataOutputStream out) throws IOException {
    synchronized (e) {
      out.writeInt(e.arms().length);
      for (Arm a : e.arms()) {
        a.ledger.writeTo(out);
      }
    }
  }

  private static void readLedgers(Experiment e, DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n != e.arms().length) {
      throw new IOException("ledger file has " + n + " arms (expected: " + e.arms().length + ")");
    }
    for (Arm arm : e.arms()) {
      arm.ledger.readFrom(in);
    }
  }

  private static void sync(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
