package ai.distill.gateway.jobs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Rows a job reads from outside the store, named by a URI (e.g. {@code kafka://distill.captures}):
 * copied into the job's own frozen rows file before it runs. {@link #NONE} knows no URI.
 */
@FunctionalInterface
public interface ExternalRows {

  /** No external rows: every URI is refused. */
  ExternalRows NONE =
      (uri, copy) -> {
        throw new IllegalArgumentException(
            "rows: '"
                + uri
                + "' is not a capture or a path in the store, and no Kafka is"
                + " configured to read it from (expected: \"capture\", \"capture:<stream>\", a rows"
                + " file relative to the store, or kafka://<topic> with --kafka)");
      };

  /** True for the URIs this kind of source reads (a scheme), such as {@code kafka://...}. */
  static boolean isUri(String rows) {
    return rows.matches("[a-z][a-z0-9+.-]*://.*");
  }

  /**
   * Where the captured rows of {@code stream} are when they are not files under the store (a URI
   * {@link #copy} reads), or null (the default: {@code <store>/captures/<stream>}).
   */
  default String capturedRows(String stream) {
    return null;
  }

  /**
   * Copies every row {@code uri} holds now into {@code copy}; returns how many. Blocking.
   *
   * @throws IllegalArgumentException when the URI is not understood
   */
  long copy(String uri, Path copy) throws IOException;
}
