package ai.distill.gateway.capture;

import ai.distill.store.rows.RowsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Writes capture records as JSON lines, encoded by the store's {@link RowsWriter}, to rotated,
 * size-bounded segments {@code <captures>/<stream>/segment-<seq>.jsonl} from one writer thread fed
 * by a bounded queue. {@link #offer} never blocks and never throws: a full queue or a failing disk
 * drops the record and counts it. Each run starts a new segment (never appends after a possibly
 * torn line); once a stream's segments exceed {@code maxStreamBytes} the oldest are deleted.
 *
 * <p>Durability: written rows reach the OS whenever the queue empties or at the latest every
 * {@value #TICK_MILLIS} ms, and the disk every {@link Limits#fsyncIntervalMillis()} (default 1 s),
 * when a segment rotates and at close. A kill -9 loses what is still queued (at most {@code
 * queueCapacity} records); a power loss also what was written since the last fsync (at most the
 * fsync interval). Thread-safe.
 *
 * <pre>{@code
 * CaptureWriter w = new CaptureWriter(store.capturesDir(), CaptureWriter.Limits.DEFAULT, metrics, null);
 * w.start();
 * w.offer(record);   // false when dropped
 * w.close();         // drains what is queued, then stops
 * }</pre>
 */
public final class CaptureWriter implements AutoCloseable {

  /**
   * Queue and disk bounds, and the fsync policy.
   *
   * @param fsyncIntervalMillis how often written rows are forced to disk ({@code
   *     capture.fsync_interval_ms}; 0: after every batch); segments are also forced when they
   *     rotate and when the writer closes
   */
  public record Limits(
      int queueCapacity, long maxSegmentBytes, long maxStreamBytes, long fsyncIntervalMillis) {
    public static final long DEFAULT_FSYNC_INTERVAL_MILLIS = 1_000;
    public static final Limits DEFAULT =
        new Limits(10_000, 64L << 20, 1L << 30, DEFAULT_FSYNC_INTERVAL_MILLIS);

    public Limits withFsyncIntervalMillis(long millis) {
      return new Limits(queueCapacity, maxSegmentBytes, maxStreamBytes, millis);
    }

    /** With the default fsync interval. */
    public Limits(int queueCapacity, long maxSegmentBytes, long maxStreamBytes) {
      this(queueCapacity, maxSegmentBytes, maxStreamBytes, DEFAULT_FSYNC_INTERVAL_MILLIS);
    }

    public Limits {
      if (fsyncIntervalMillis < 0) {
        throw new IllegalArgumentException(
            "fsyncIntervalMillis : " + fsyncIntervalMillis + " (expected: >= 0)");
      }
      if (queueCapacity <= 0) {
        throw new IllegalArgumentException("queueCapacity : " + queueCapacity + " (expected: > 0)");
      }
      if (maxSegmentBytes <= 0 || maxStreamBytes < maxSegmentBytes) {
        throw new IllegalArgumentException(
            "maxSegmentBytes : "
                + maxSegmentBytes
                + ", maxStreamBytes : "
                + maxStreamBytes
                + " (expected: 0 < maxSegmentBytes <= maxStreamBytes)");
      }
    }
  }

  private static final Object STOP = new Object();

  /** How often the writer runs its tick (expired pending rows, flush, fsync), busy or idle. */
  static final long TICK_MILLIS = 200;

  private final Path root;
  private final Limits limits;
  private final CaptureMetrics metrics;
  private final Supplier<List<CaptureRecord>> onTick;
  private final BlockingQueue<Object> queue;
  private final Map<String, Segment> segments = new HashMap<>();

  /**
   * The store's one writer of the rows format encodes each record's lines here (writer thread
   * only).
   */
  private final ByteArrayOutputStream encoded = new ByteArrayOutputStream(1 << 16);

  private final RowsWriter encoder = RowsWriter.to(encoded);
  private final LongAdder writtenRows = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final Thread thread;
  private volatile boolean closed;
  private volatile RowSink sink;

  /**
   * @param onTick called by the writer thread every {@value #TICK_MILLIS} ms whether or not records
   *     keep arriving; the records it returns (the sampler's expired pending ones) are written at
   *     once, without going through the queue (so a full queue cannot drop them); or null
   */
  public CaptureWriter(
      Path capturesDir,
      Limits limits,
      CaptureMetrics metrics,
      Supplier<List<CaptureRecord>> onTick) {
    this.root = capturesDir;
    this.limits = limits;
    this.metrics = metrics == null ? CaptureMetrics.NOOP : metrics;
    this.onTick = onTick;
    this.queue = new ArrayBlockingQueue<>(limits.queueCapacity());
    this.thread = new Thread(this::run, "distill-capture-writer");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /**
   * Queues a record; false (and counted as dropped) when the queue is full or the writer closed.
   */
  public boolean offer(CaptureRecord record) {
    if (closed || !queue.offer(record)) {
      drop(record.stream(), "queue_full");
      return false;
    }
    return true;
  }

  /**
   * From now on, rows go to {@code sink} (one line each) instead of the segment files; a row the
   * sink drops is counted as dropped ({@code sink_full}).
   */
  public void sendTo(RowSink sink) {
    this.sink = sink;
  }

  /** Rows written so far. */
  public long writtenRows() {
    return writtenRows.sum();
  }

  /**
   * Records dropped so far (full queue, failing disk, closed writer), and single rows with a
   * non-finite input.
   */
  public long dropped() {
    return dropped.sum();
  }

  /** Writes what is queued, closes the segments and stops the thread. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (thread.isAlive()) {
      try {
        queue.put(STOP);
        thread.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    long lastTick = System.nanoTime();
    long lastSync = lastTick;
    try {
      while (true) {
        Object item = queue.poll(TICK_MILLIS, TimeUnit.MILLISECONDS);
        if (item == STOP) {
          break;
        }
        if (item != null) {
          write((CaptureRecord) item);
        }
        long now = System.nanoTime();
        boolean tick = now - lastTick >= TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
        if (tick) {
          lastTick = now;
          tick(); // on time even under steady traffic, not only when the queue idles
        }
        if (tick || queue.isEmpty()) {
          boolean sync =
              now - lastSync >= TimeUnit.MILLISECONDS.toNanos(limits.fsyncIntervalMillis());
          flushAll(sync);
          if (sync) {
            lastSync = now;
          }
        }
      }
      tick();
      Object rest;
      while ((rest = queue.poll()) != null) {
        if (rest != STOP) {
          write((CaptureRecord) rest);
        }
      }
      flushAll(true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      for (Segment s : segments.values()) {
        s.closeQuietly();
      }
      segments.clear();
    }
  }

  private void tick() {
    if (onTick != null) {
      List<CaptureRecord> due;
      try {
        due = onTick.get();
      } catch (RuntimeException e) {
        return; // a failing hook must not stop the writer
      }
      due.forEach(this::write);
    }
  }

  private void write(CaptureRecord r) {
    int rows = 0;
    for (int row = 0; row < r.rows(); row++) {
      try {
        r.writeRow(encoder, row);
        rows++;
      } catch (IllegalArgumentException e) {
        drop(r.stream(), "non_finite"); // a non-finite input: no reader would accept the line
      }
    }
    encoder.flush();
    byte[] bytes = encoded.toByteArray();
    encoded.reset();
    if (rows == 0) {
      return;
    }
    RowSink to = sink;
    if (to != null) {
      sendLines(to, r.stream(), bytes);
      return;
    }
    try {
      Segment s = segments.get(r.stream());
      if (s == null) {
        s = new Segment(root.resolve(r.stream()));
        segments.put(r.stream(), s);
      }
      s.write(bytes);
      writtenRows.add(rows);
      metrics.written(r.stream(), rows);
    } catch (IOException | RuntimeException e) {
      Segment s = segments.remove(r.stream());
      if (s != null) {
        s.closeQuietly();
      }
      drop(r.stream(), "io_error");
    }
  }

  private void sendLines(RowSink to, String stream, byte[] bytes) {
    int start = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        String line = new String(bytes, start, i - start, java.nio.charset.StandardCharsets.UTF_8);
        start = i + 1;
        if (to.publish(stream, line)) {
          writtenRows.increment();
          metrics.written(stream, 1);
        } else {
          drop(stream, "sink_full");
        }
      }
    }
  }

  /** Flushes every open segment to the OS and, with {@code sync}, forces it to disk. */
  private void flushAll(boolean sync) {
    List<String> failed = new ArrayList<>();
    for (Map.Entry<String, Segment> e : segments.entrySet()) {
      try {
        e.getValue().flush(sync);
      } catch (IOException ex) {
        failed.add(e.getKey());
      }
    }
    for (String stream : failed) {
      segments.remove(stream).closeQuietly();
    }
  }

  private void drop(String stream, String reason) {
    dropped.increment();
    metrics.dropped(stream, reason);
  }

  /** The open segment of one stream. Used by the writer thread only. */
  private final class Segment {
    final Path dir;
    FileChannel channel;
    OutputStream out;
    long size;
    long seq;

    Segment(Path dir) throws IOException {
      this.dir = dir;
      Files.createDirectories(dir);
      this.seq = lastSequence(dir) + 1;
      open();
    }

    void write(byte[] bytes) throws IOException {
      if (size > 0 && size + bytes.length > limits.maxSegmentBytes()) {
        flush(true);
        out.close();
        seq++;
        open();
      }
      out.write(bytes);
      size += bytes.length;
    }

    private void open() throws IOException {
      Path file = dir.resolve(String.format("segment-%012d.jsonl", seq));
      channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
      size = 0;
      enforceBound(file);
    }

    /**
     * Deletes the oldest segments (never the one just opened) while the stream is over its bound.
     */
    private void enforceBound(Path current) throws IOException {
      List<Path> files = segmentFiles(dir);
      long total = 0;
      for (Path f : files) {
        total += Files.size(f);
      }
      for (Path f : files) {
        if (total + limits.maxSegmentBytes() <= limits.maxStreamBytes() || f.equals(current)) {
          break;
        }
        total -= Files.size(f);
        Files.deleteIfExists(f);
      }
    }

    void flush(boolean sync) throws IOException {
      out.flush();
      if (sync) {
        channel.force(false);
      }
    }

    void closeQuietly() {
      try {
        out.close();
      } catch (IOException ignored) {
        // the disk is failing; the records were already counted
      }
    }
  }

  /** Segment files of a stream directory, oldest first. */
  public static List<Path> segmentFiles(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return files;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "segment-*.jsonl")) {
      ds.forEach(files::add);
    }
    files.sort(null);
    return files;
  }

  private static long lastSequence(Path dir) throws IOException {
    long max = 0;
    for (Path f : segmentFiles(dir)) {
      String n = f.getFileName().toString();
      try {
        max =
            Math.max(
                max,
                Long.parseLong(n.substring("segment-".length(), n.length() - ".jsonl".length())));
      } catch (NumberFormatException ignored) {
        // not ours
      }
    }
    return max;
  }
}
