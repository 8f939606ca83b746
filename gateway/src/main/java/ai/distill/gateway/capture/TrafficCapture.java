package ai.distill.gateway.capture;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * The capture sampler: decides which requests are captured and holds captured records that may
 * still receive a label until their click feedback arrives or their attribution window closes, then
 * hands them to the {@link CaptureWriter} (labelled rows are therefore written once, complete, and
 * need no later join). Pending records are bounded by count ({@code maxPending}) and by approximate
 * heap bytes ({@code maxPendingBytes}); beyond either bound the oldest is written unlabelled. Never
 * blocks and never throws on the request path. Thread-safe.
 *
 * <p>Durability: pending records live in memory only. A record whose window closes is written
 * (unlabelled) within one writer tick ({@value CaptureWriter#TICK_MILLIS} ms) even under steady
 * traffic; {@link #close} writes all of them. A kill -9 loses the pending records (at most the last
 * attribution window's captured rows, bounded by {@code maxPending} and {@code maxPendingBytes})
 * plus what the {@link CaptureWriter} had not written yet.
 */
public final class TrafficCapture implements AutoCloseable {

  private record Pending(CaptureRecord record, long deadlineMillis) {}

  private final CaptureWriter writer;
  private final int maxPending;
  private final long maxPendingBytes;
  private long pendingBytes;
  private final LongSupplier clock;
  private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();

  /** Builds the writer too; call {@link #start()}. */
  public TrafficCapture(
      java.nio.file.Path capturesDir,
      CaptureWriter.Limits limits,
      int maxPending,
      CaptureMetrics metrics,
      LongSupplier clockMillis) {
    this(capturesDir, limits, maxPending, 64L << 20, metrics, clockMillis);
  }

  /** Builds the writer too; call {@link #start()}. */
  public TrafficCapture(
      java.nio.file.Path capturesDir,
      CaptureWriter.Limits limits,
      int maxPending,
      long maxPendingBytes,
      CaptureMetrics metrics,
      LongSupplier clockMillis) {
    if (maxPending < 0) {
      throw new IllegalArgumentException("maxPending : " + maxPending + " (expected: >= 0)");
    }
    this.maxPending = maxPending;
    this.maxPendingBytes = maxPendingBytes;
    this.clock = clockMillis;
    this.writer = new CaptureWriter(capturesDir, limits, metrics, this::takeExpired);
  }

  public void start() {
    writer.start();
  }

  public CaptureWriter writer() {
    return writer;
  }

  /** A Bernoulli draw at {@code rate}. */
  public static boolean sample(double rate) {
    return rate > 0 && (rate >= 1 || ThreadLocalRandom.current().nextDouble() < rate);
  }

  /**
   * Captures a record. With an id and a label deadline in the future it waits for feedback (or the
   * deadline); otherwise it is queued for writing at once. Returns false only when it was dropped.
   */
  public boolean capture(CaptureRecord record, long labelDeadlineMillis) {
    if (record.id() == null || maxPending == 0 || labelDeadlineMillis <= clock.getAsLong()) {
      return writer.offer(record);
    }
    List<CaptureRecord> overflow = null;
    synchronized (this) {
      Pending previous = pending.put(record.id(), new Pending(record, labelDeadlineMillis));
      if (previous != null) {
        pendingBytes -= previous.record().bytes();
      }
      pendingBytes += record.bytes();
      Iterator<Pending> it = pending.values().iterator();
      while (pending.size() > maxPending
          || (pendingBytes > maxPendingBytes && pending.size() > 1)) {
        CaptureRecord oldest = it.next().record();
        it.remove();
        pendingBytes -= oldest.bytes();
        if (overflow == null) {
          overflow = new ArrayList<>();
        }
        overflow.add(oldest);
      }
    }
    boolean ok = true;
    if (overflow != null) {
      for (CaptureRecord r : overflow) {
        ok &= writer.offer(r);
      }
    }
    return ok;
  }

  /**
   * Feedback arrived: the pending record is written with its labels. False when nothing was
   * pending.
   */
  public boolean label(String id, int[] clicks) {
    Pending p;
    synchronized (this) {
      p = pending.remove(id);
      if (p != null) {
        pendingBytes -= p.record().bytes();
      }
    }
    if (p == null || clicks.length != p.record().rows()) {
      return false;
    }
    writer.offer(p.record().withLabels(clicks));
    return true;
  }

  /** Attaches the teacher's shadow outputs to a pending record. */
  public synchronized boolean teacherOutputs(String id, List<CapturedTensor> outputs) {
    Pending p = pending.get(id);
    if (p == null) {
      return false;
    }
    CaptureRecord updated = p.record().withTeacherOutputs(outputs);
    pendingBytes += updated.bytes() - p.record().bytes();
    pending.put(id, new Pending(updated, p.deadlineMillis()));
    return true;
  }

  /** Approximate heap bytes of the records waiting for feedback. */
  public synchronized long pendingBytes() {
    return pendingBytes;
  }

  /** Records waiting for feedback. */
  public synchronized int pending() {
    return pending.size();
  }

  /**
   * Writes, unlabelled, every pending record whose window closed (the writer thread calls it on
   * every tick, busy or idle).
   */
  public void flushExpired() {
    takeExpired().forEach(writer::offer);
  }

  /** Removes and returns the pending records whose window closed, oldest first. */
  List<CaptureRecord> takeExpired() {
    long now = clock.getAsLong();
    List<CaptureRecord> due = new ArrayList<>();
    synchronized (this) {
      Iterator<Pending> it = pending.values().iterator();
      while (it.hasNext()) {
        Pending p = it.next();
        if (p.deadlineMillis() > now) {
          break;
        }
        due.add(p.record());
        pendingBytes -= p.record().bytes();
        it.remove();
      }
    }
    return due;
  }

  /** Writes everything still pending (unlabelled) and stops the writer. */
  @Override
  public void close() {
    List<CaptureRecord> rest;
    synchronized (this) {
      rest = new ArrayList<>();
      pending.values().forEach(p -> rest.add(p.record()));
      pending.clear();
      pendingBytes = 0;
    }
    rest.forEach(writer::offer);
    writer.close();
  }
}
