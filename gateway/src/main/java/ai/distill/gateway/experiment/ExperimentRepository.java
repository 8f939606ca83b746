package ai.distill.gateway.experiment;

import ai.distill.gateway.feedback.FeedbackStore;
import ai.distill.store.AtomicFiles;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Experiments on disk under {@code <store>/experiments/}: {@code <name>.json} (definition, weights,
 * slot ranges, counters, history) and {@code <name>.users} (per-user counts), each replaced
 * atomically ({@link AtomicFiles}: unique temporary file, fsync, rename); promotions are also
 * appended to {@code promotions.jsonl}. The JSON is {@link ExperimentJson}'s. The feedback store's
 * pending impressions are kept next to them in {@code <store>/feedback/impressions.bin}.
 *
 * <p>One writer per experiment: saves of one experiment are serialized (a per-experiment lock) and
 * coalesced: a save requested while another runs waits for it and then runs once for every request
 * that arrived meanwhile; a request already covered by a write that started after it returns at
 * once. Saving never holds the experiment's monitor (which serving takes) for more than O(arms)
 * counters or one ledger segment ({@link UserLedger#copySegment}); the disk write runs outside it.
 * A snapshot is therefore consistent per segment and may be a few requests behind or ahead between
 * segments and the JSON counters: each user's impressions and clicks stay together, which is what
 * the delta method needs. Methods block: call them from a worker thread. Thread-safe.
 */
public final class ExperimentRepository {

  /** First int of the second {@code .users} format (the first format starts with the arm count). */
  private static final int SEGMENTED_FORMAT = -2;

  private final Path dir;
  private final Map<String, Writer> writers = new ConcurrentHashMap<>();
  private final Object impressionsWriter = new Object();

  /** Serializes and coalesces the saves of one experiment. */
  private static final class Writer {
    final ReentrantLock lock = new ReentrantLock();
    final AtomicLong requested = new AtomicLong();
    long written; // guarded by lock
  }

  public ExperimentRepository(Path experimentsDir) {
    this.dir = experimentsDir;
  }

  public Path dir() {
    return dir;
  }

  /** Where the feedback store's pending impressions are persisted. */
  public Path impressionsFile() {
    return dir.resolveSibling("feedback").resolve("impressions.bin");
  }

  /**
   * Writes an experiment's state and ledgers, each atomically (ledgers first, so state never refers
   * ahead). Serialized and coalesced per experiment (see the class comment); returns once a write
   * that started after this call has completed.
   */
  public void save(Experiment e) throws IOException {
    Writer w = writers.computeIfAbsent(e.name(), n -> new Writer());
    long ticket = w.requested.incrementAndGet();
    w.lock.lock();
    try {
      if (w.written >= ticket) {
        return; // a write that started after this request already completed
      }
      long target = w.requested.get();
      write(e);
      w.written = target;
    } finally {
      w.lock.unlock();
    }
  }

  private void write(Experiment e) throws IOException {
    AtomicFiles.replace(dir.resolve(e.name() + ".users"), out -> writeLedgers(e, out));
    JsonObject state = ExperimentJson.state(e);
    byte[] json = state.encodePrettily().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.replace(dir.resolve(e.name() + ".json"), out -> out.write(json));
  }

  /** Writes the pending impressions of a feedback store atomically. */
  public void saveImpressions(FeedbackStore store) throws IOException {
    synchronized (impressionsWriter) { // one writer (the store's own lock is taken only to copy)
      AtomicFiles.replace(impressionsFile(), store::writeSnapshot);
    }
  }

  /** Restores the persisted pending impressions (expired ones are dropped); returns how many. */
  public int loadImpressions(FeedbackStore store) throws IOException {
    Path f = impressionsFile();
    if (!Files.exists(f)) {
      return 0;
    }
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
      return store.readSnapshot(in);
    }
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

  /**
   * Moves an experiment's files to {@code archive/<name>-<created millis>.{json,users}}, so its
   * next generation starts from nothing and the old one stays readable.
   */
  public void archive(Experiment e) throws IOException {
    Writer w = writers.computeIfAbsent(e.name(), n -> new Writer());
    w.lock.lock();
    try {
      Path archive = dir.resolve("archive");
      Files.createDirectories(archive);
      for (String ext : new String[] {".json", ".users"}) {
        Path f = dir.resolve(e.name() + ext);
        if (Files.exists(f)) {
          Files.move(
              f,
              archive.resolve(e.name() + "-" + e.createdMillis() + ext),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } finally {
      w.lock.unlock();
    }
  }

  /** Deletes an experiment's files. */
  public void delete(String name) throws IOException {
    Writer w = writers.computeIfAbsent(name, n -> new Writer());
    w.lock.lock();
    try {
      Files.deleteIfExists(dir.resolve(name + ".json"));
      Files.deleteIfExists(dir.resolve(name + ".users"));
    } finally {
      w.lock.unlock();
    }
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
    try {
      AtomicFiles.deleteTemporaries(dir); // left by a crash during a save
    } catch (IOException ex) {
      errors.add(dir + ": " + ex.getMessage());
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

  /**
   * The definitions held by {@code dir} (bare definition files, and the definitions inside saved
   * experiments), read without writing anything there: a store shared by several instances keeps
   * the experiments they all run, each instance its own state.
   */
  static List<ExperimentDefinition> definitionsIn(Path dir, List<String> errors) {
    List<ExperimentDefinition> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
      for (Path f : files) {
        try {
          JsonObject json = new JsonObject(Files.readString(f, StandardCharsets.UTF_8));
          out.add(
              ExperimentJson.definition(
                  json.containsKey("definition") ? json.getJsonObject("definition") : json));
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

  /**
   * Second format: {@code -2, arms}, then per arm {@code untracked} and the ledger's segments as
   * {@code count, count × (key, value)}. Each segment is copied under the experiment's monitor and
   * written after releasing it.
   */
  private static void writeLedgers(Experiment e, DataOutputStream out) throws IOException {
    Arm[] arms = e.arms();
    out.writeInt(SEGMENTED_FORMAT);
    out.writeInt(arms.length);
    for (Arm a : arms) {
      long untracked;
      synchronized (e) {
        untracked = a.ledger.untracked();
      }
      out.writeLong(untracked);
      for (int s = 0; s < UserLedger.SEGMENTS; s++) {
        long[] pairs;
        synchronized (e) {
          pairs = a.ledger.copySegment(s);
        }
        out.writeInt(pairs.length / 2);
        for (long v : pairs) {
          out.writeLong(v);
        }
      }
    }
  }

  private static void readLedgers(Experiment e, DataInputStream in) throws IOException {
    int first = in.readInt();
    boolean segmented = first == SEGMENTED_FORMAT;
    int n = segmented ? in.readInt() : first;
    if (n != e.arms().length) {
      throw new IOException("ledger file has " + n + " arms (expected: " + e.arms().length + ")");
    }
    for (Arm arm : e.arms()) {
      if (!segmented) {
        arm.ledger.readLegacy(in);
        continue;
      }
      arm.ledger.restoreUntracked(in.readLong());
      for (int s = 0; s < UserLedger.SEGMENTS; s++) {
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
          long key = in.readLong();
          arm.ledger.restore(key, in.readLong());
        }
      }
    }
  }
}
