package ai.distill.gateway.feedback;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Finds the key that signs response ids, in order: the configured {@code "feedback_key"}, the
 * {@code DISTILL_FEEDBACK_KEY} variable, else {@code <store>/feedback.key} (made on first use with
 * a random key, mode 600). Instances that share a store directory, or are given the same key,
 * accept each other's ids. The key is the UTF-8 bytes of the text (at least 16).
 */
public final class FeedbackKeys {

  /** The environment variable that carries the key. */
  public static final String ENV = "DISTILL_FEEDBACK_KEY";

  /** The key file's name under the store. */
  public static final String FILE = "feedback.key";

  private FeedbackKeys() {}

  /**
   * The signer for {@code configured} (may be null), else {@code env} (may be null), else the key
   * file under {@code store} (created when absent); with no store either, a random key.
   */
  public static ResponseIdSigner resolve(String configured, String env, Path store) {
    if (configured != null && !configured.isEmpty()) {
      return signer(configured, "feedback_key");
    }
    if (env != null && !env.isEmpty()) {
      return signer(env, ENV);
    }
    if (store == null) {
      return ResponseIdSigner.random();
    }
    return signer(readOrCreate(store.resolve(FILE)), store.resolve(FILE).toString());
  }

  /** {@link #resolve} with the process environment. */
  public static ResponseIdSigner resolve(String configured, Path store) {
    return resolve(configured, System.getenv(ENV), store);
  }

  private static ResponseIdSigner signer(String text, String source) {
    byte[] key = text.trim().getBytes(StandardCharsets.UTF_8);
    if (key.length < ResponseIdSigner.MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          source
              + ": the feedback key has "
              + key.length
              + " bytes (expected: at least "
              + ResponseIdSigner.MIN_KEY_BYTES
              + ", e.g. the output of `openssl rand -base64 32`)");
    }
    return new ResponseIdSigner(key);
  }

  private static String readOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String text = Base64.getEncoder().encodeToString(random) + "\n";
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), FILE, ".tmp");
        try {
          restrict(tmp);
          Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.WRITE);
          // a hard link appears whole or fails: when two instances sharing the store race, the
          // first key wins and both read it
          Files.createLink(file, tmp);
        } catch (FileAlreadyExistsException raced) {
          // the other instance's key wins
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read or create the feedback key " + file + ": " + e.getMessage(), e);
    }
  }

  private static void restrict(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException notPosix) {
      // not a POSIX file system: left as created
    }
  }
}
