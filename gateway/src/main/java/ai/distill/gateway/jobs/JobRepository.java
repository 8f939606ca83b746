package ai.distill.gateway.jobs;

import ai.distill.store.AtomicFiles;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Job records on disk, one file {@code <store>/jobs/<id>.json} per job. A save writes a temporary
 * file, fsyncs it and renames it over the record in one atomic step, so a reader (or a restart
 * after {@code kill -9}) sees the old record or the new one, never a torn one. Blocking: never call
 * it on an event loop. Thread-safe (saves are serialized).
 *
 * <pre>{@code
 * JobRepository jobs = new JobRepository(store.root().resolve("jobs"));
 * jobs.save(record);
 * List<JobRecord> all = jobs.loadAll();   // newest first
 * }</pre>
 */
public final class JobRepository {

  private static final System.Logger LOG = System.getLogger(JobRepository.class.getName());

  /** Job ids: letters, digits and '-' (they become file names). */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");

  private final Path dir;

  public JobRepository(Path dir) {
    this.dir = dir;
  }

  /** The directory of a store's job records, {@code <store>/jobs}. */
  public static Path dirOf(Path storeRoot) {
    return storeRoot.resolve("jobs");
  }

  public Path dir() {
    return dir;
  }

  /** Writes the record atomically and durably. */
  public synchronized void save(JobRecord record) {
    if (!ID.matcher(record.id()).matches()) {
      throw new IllegalArgumentException(
          "job id : " + record.id() + " (expected: " + ID.pattern() + ")");
    }
    Path target = dir.resolve(record.id() + ".json");
    try {
      byte[] bytes = (record.toJson().encodePrettily() + "\n").getBytes(StandardCharsets.UTF_8);
      AtomicFiles.replace(target, out -> out.write(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write job record " + target + ": " + e.getMessage(), e);
    }
  }

  /** Every readable record, newest first; unreadable files are logged and skipped. */
  public List<JobRecord> loadAll() {
    List<JobRecord> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
      for (Path f : files) {
        try {
          out.add(JobRecord.fromJson(new JsonObject(Files.readString(f, StandardCharsets.UTF_8))));
        } catch (IOException
            | DecodeException
            | IllegalArgumentException
            | NullPointerException
            | ClassCastException
            | java.time.format.DateTimeParseException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "skipping unreadable job record {0}: {1}",
              f,
              e.toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot list job records in " + dir + ": " + e.getMessage(), e);
    }
    out.sort(NEWEST_FIRST);
    return out;
  }

  /** Newest first: by creation time, then by id. */
  static final Comparator<JobRecord> NEWEST_FIRST =
      Comparator.comparing(JobRecord::created).thenComparing(JobRecord::id).reversed();

  /** Deletes the frozen copy of the newest rows a finished job read, if it made one. */
  void deleteRowsCopy(String id) {
    try {
      java.nio.file.Files.deleteIfExists(dir.resolve(id + ".rows.jsonl"));
    } catch (java.io.IOException e) {
      // a leftover copy costs disk only; the next start does not read it
    }
  }
}
