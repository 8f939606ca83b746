package ai.distill.gateway.jobs;

import ai.distill.store.rows.RowsReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Counts rows cheaply: newlines in a rows file or in a capture directory's segments ({@code
 * *.jsonl}, {@code *.jsonl.gz}), without parsing JSON, stopping once {@code enough} are seen. A
 * torn last line (no newline) is not counted. Blocking; stateless.
 */
final class RowCounter {

  private RowCounter() {}

  /**
   * Rows in {@code fileOrDir}, counting no further than {@code enough}; 0 when it does not exist.
   */
  static long count(Path fileOrDir, long enough) {
    if (!Files.exists(fileOrDir)) {
      return 0;
    }
    List<Path> files =
        Files.isDirectory(fileOrDir) ? RowsReader.segments(fileOrDir) : List.of(fileOrDir);
    long rows = 0;
    byte[] buf = new byte[1 << 16];
    for (Path f : files) {
      try (InputStream raw = Files.newInputStream(f);
          InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
        int n;
        while ((n = in.read(buf)) > 0) {
          for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
              rows++;
            }
          }
          if (rows >= enough) {
            return rows;
          }
        }
      } catch (java.io.EOFException e) {
        // a compressed segment torn by a crash: count what was readable
      } catch (IOException e) {
        throw new UncheckedIOException("cannot count rows in " + f + ": " + e.getMessage(), e);
      }
    }
    return rows;
  }
}
