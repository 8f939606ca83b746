package ai.distill.gateway.capture;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowsReader;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The newest rows of a capture stream ({@code <store>/captures/<stream>/segment-*.jsonl}), read
 * from the newest segment backwards until enough rows are found, so a long-running capture is never
 * read whole. A torn last line is skipped (the reader's rule). Blocking; stateless.
 *
 * <pre>{@code
 * List<Row> rows = RecentRows.read(store.capturesDir().resolve("ctr-ab"), 2_000);
 * long fresh = RecentRows.newerThan(rows, publishedMillis);
 * RecentRows.copyNewest(stream, 2_000, store.root().resolve("jobs/j1.rows.jsonl"));
 * }</pre>
 */
public final class RecentRows {

  private RecentRows() {}

  /**
   * At most {@code max} of the newest rows of a stream (or of one rows file), oldest first; empty
   * when the stream does not exist yet.
   */
  public static List<Row> read(Path streamOrFile, int max) {
    if (max <= 0 || !Files.exists(streamOrFile)) {
      return List.of();
    }
    List<Path> segments =
        Files.isDirectory(streamOrFile) ? RowsReader.segments(streamOrFile) : List.of(streamOrFile);
    ArrayDeque<Row> newest = new ArrayDeque<>();
    for (int s = segments.size() - 1; s >= 0 && newest.size() < max; s--) {
      ArrayDeque<Row> tail = new ArrayDeque<>();
      try (RowsReader reader = RowsReader.open(segments.get(s))) {
        while (reader.hasNext()) {
          tail.addLast(reader.next());
          if (tail.size() > max - newest.size()) {
            tail.removeFirst();
          }
        }
      } catch (UncheckedIOException e) {
        // a segment deleted by the writer's rotation while we read it: older ones still count
        continue;
      }
      while (!tail.isEmpty()) {
        newest.addFirst(tail.removeLast());
      }
    }
    return new ArrayList<>(newest);
  }

  /**
   * Copies the newest {@code max} complete lines of a stream (or rows file) to {@code target},
   * oldest first, as they were captured; a torn line is left out.
   *
   * @return the lines copied
   */
  public static int copyNewest(Path streamOrFile, int max, Path target) throws IOException {
    List<Path> segments =
        Files.isDirectory(streamOrFile) ? RowsReader.segments(streamOrFile) : List.of(streamOrFile);
    ArrayDeque<String> newest = new ArrayDeque<>();
    for (int s = segments.size() - 1; s >= 0 && newest.size() < max; s--) {
      ArrayDeque<String> tail = new ArrayDeque<>();
      try (BufferedReader in = Files.newBufferedReader(segments.get(s), StandardCharsets.UTF_8)) {
        String line;
        while ((line = in.readLine()) != null) {
          if (!line.isBlank() && complete(line)) {
            tail.addLast(line);
            if (tail.size() > max - newest.size()) {
              tail.removeFirst();
            }
          }
        }
      } catch (java.nio.file.NoSuchFileException e) {
        continue; // rotated away while we read
      }
      while (!tail.isEmpty()) {
        newest.addFirst(tail.removeLast());
      }
    }
    Files.createDirectories(target.toAbsolutePath().getParent());
    try (BufferedWriter out = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
      for (String line : newest) {
        out.write(line);
        out.write('\n');
      }
    }
    return newest.size();
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private static boolean complete(String line) {
    try {
      return JSON.readTree(line).isObject();
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  /** How many of {@code rows} were captured ({@code ts}, epoch millis) after {@code millis}. */
  public static long newerThan(List<Row> rows, long millis) {
    long n = 0;
    for (Row r : rows) {
      if (timestamp(r) > millis) {
        n++;
      }
    }
    return n;
  }

  /** A row's capture time in epoch millis, or {@link Long#MIN_VALUE} when it carries none. */
  public static long timestamp(Row r) {
    if (r.extra() == null || !r.extra().hasNonNull("ts")) {
      return Long.MIN_VALUE;
    }
    return r.extra().get("ts").asLong(Long.MIN_VALUE);
  }
}
