package ai.distill.store;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Replaces a file atomically: the content goes to a uniquely named {@code <name>.<random>.tmp} next
 * to it, is fsynced, renamed over the target, and the directory is synced. A crash at any moment
 * leaves either the old or the new file (plus perhaps a stray {@code .tmp}, which {@link
 * #deleteTemporaries} removes at start). Stateless.
 */
public final class AtomicFiles {

  /** Writes a file's content. */
  @FunctionalInterface
  public interface Content {
    void writeTo(DataOutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  /** Replaces {@code target} with what {@code content} writes; see the class comment. */
  public static void replace(Path target, Content content) throws IOException {
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel ch =
              FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          DataOutputStream out =
              new DataOutputStream(
                  new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16))) {
        content.writeTo(out);
        out.flush();
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    DurableFiles.syncDir(dir);
  }

  /** Deletes the {@code *.tmp} files an interrupted {@link #replace} left in a directory. */
  public static void deleteTemporaries(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.tmp")) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    }
  }
}
