package ai.distill.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The store's {@code tmp/} folder: staging slots for publish and remove, each guarded by an OS file
 * lock that dies with its process, and the cleaning of slots whose owner died. Thread-safe.
 */
final class TmpArea {

  private static final System.Logger LOG = System.getLogger(ModelStore.class.getName());
  private static final String LOCK_SUFFIX = ".lock";

  /**
   * Temporary ids in use by this JVM. POSIX locks are per process and closing any descriptor of a
   * file drops them, so the cleaner must not even open the lock file of a slot this JVM owns.
   */
  private static final Set<String> LIVE_SLOTS = ConcurrentHashMap.newKeySet();

  private final Path tmp;

  TmpArea(Path tmp) {
    this.tmp = tmp;
  }

  /**
   * A directory {@code tmp/<id>} guarded by an exclusive OS lock on {@code tmp/<id>.lock}, held
   * until close. The lock dies with the process, which is how {@link #clean()} tells abandoned
   * directories from live ones.
   */
  Slot newSlot() throws IOException {
    String id = UUID.randomUUID().toString();
    Path lockFile = tmp.resolve(id + LOCK_SUFFIX);
    Files.createDirectories(tmp);
    LIVE_SLOTS.add(id);
    FileChannel ch = null;
    try {
      ch = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      FileLock lock = ch.lock();
      Path dir = tmp.resolve(id);
      Files.createDirectory(dir);
      return new Slot(id, dir, lockFile, ch, lock);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      Files.deleteIfExists(lockFile);
      LIVE_SLOTS.remove(id);
      throw e;
    }
  }

  static final class Slot implements AutoCloseable {
    final String id;
    final Path dir;
    final Path lockFile;
    final FileChannel channel;
    final FileLock lock;

    Slot(String id, Path dir, Path lockFile, FileChannel channel, FileLock lock) {
      this.id = id;
      this.dir = dir;
      this.lockFile = lockFile;
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public void close() throws IOException {
      try {
        DurableFiles.deleteRecursively(dir);
        Files.deleteIfExists(lockFile);
      } finally {
        channel.close(); // releases the lock
        LIVE_SLOTS.remove(id);
      }
    }
  }

  /**
   * Deletes tmp entries whose owner is gone (no live lock); skips those of live publishers in any
   * process.
   */
  void clean() {
    Set<String> ids = new HashSet<>();
    for (Path p : ModelStore.list(tmp)) {
      String f = p.getFileName().toString();
      ids.add(f.endsWith(LOCK_SUFFIX) ? f.substring(0, f.length() - LOCK_SUFFIX.length()) : f);
    }
    for (String id : ids) {
      if (LIVE_SLOTS.contains(id)) {
        continue;
      }
      Path lockFile = tmp.resolve(id + LOCK_SUFFIX);
      try (FileChannel ch =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock;
        try {
          lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          continue; // a publisher in this JVM owns it
        }
        if (lock == null) {
          continue; // a publisher in another process owns it
        }
        DurableFiles.deleteRecursively(tmp.resolve(id));
        Files.deleteIfExists(lockFile);
        LOG.log(System.Logger.Level.INFO, "removed leftover temporary entry {0}", tmp.resolve(id));
      } catch (IOException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "cannot clean temporary entry " + tmp.resolve(id) + ": " + e);
      }
    }
  }
}
