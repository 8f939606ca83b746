package ai.distill.store;

import java.nio.file.Path;

/**
 * A stored model file whose sha256 or size does not match its manifest. Callers must refuse the
 * version (and keep serving the last good one); the message names the file, the expected and the
 * actual digest.
 */
public class IntegrityException extends ModelStoreException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String expectedSha256;
  private final String actualSha256;

  public IntegrityException(String message, Path file, String expectedSha256, String actualSha256) {
    super(message);
    this.file = file;
    this.expectedSha256 = expectedSha256;
    this.actualSha256 = actualSha256;
  }

  /** The file that failed the check. */
  public Path file() {
    return file;
  }

  /** The digest recorded in the manifest. */
  public String expectedSha256() {
    return expectedSha256;
  }

  /** The digest of the bytes on disk (null when the file could not be read). */
  public String actualSha256() {
    return actualSha256;
  }
}
