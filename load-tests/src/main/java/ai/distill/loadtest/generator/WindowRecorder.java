package ai.distill.loadtest.generator;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Collects the requests of one measurement window: two latency histograms in microseconds — {@code
 * corrected} from each request's intended start (coordinated-omission free), {@code uncorrected}
 * from the moment it actually went on a connection (what a naive closed-loop client reports) — the
 * client's send delay between the two, and outcome counts. Thread-safe: methods are synchronized
 * (called from event-loop threads).
 */
public final class WindowRecorder {
  /** Latencies above a minute are clamped (they are timeouts in practice). */
  static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(1);

  private final Histogram corrected = new Histogram(MAX_MICROS, 3);
  private final Histogram uncorrected = new Histogram(MAX_MICROS, 3);
  private final Histogram sendDelay = new Histogram(MAX_MICROS, 3);
  private final Map<String, Long> outcomes = new TreeMap<>();
  private long sent;
  private long clientSaturated;
  private long pending;
  private long okRequests;

  public synchronized void onSent() {
    sent++;
    pending++;
  }

  /** A scheduled request that was not sent because the outstanding-request bound was reached. */
  public synchronized void onClientSaturated() {
    clientSaturated++;
  }

  /** Records a finished request; only successful responses enter the latency histograms. */
  public synchronized void record(long intendedNanos, Outcome outcome) {
    pending--;
    outcomes.merge(outcome.key(), 1L, Long::sum);
    if (outcome.ok()) {
      okRequests++;
      corrected.recordValue(micros(outcome.doneNanos() - intendedNanos));
      uncorrected.recordValue(micros(outcome.doneNanos() - outcome.sentNanos()));
      sendDelay.recordValue(micros(outcome.sentNanos() - intendedNanos));
    }
  }

  public synchronized long pending() {
    return pending;
  }

  /**
   * An immutable copy of what was recorded so far.
   *
   * @param okCompletedInWindow successful responses that completed during the window's wall-clock
   *     interval (achieved throughput, independent of which window the requests were intended for)
   */
  public synchronized WindowResult snapshot(
      int index, double seconds, long okCompletedInWindow, int rowsPerRequest) {
    return new WindowResult(
        index,
        seconds,
        sent,
        clientSaturated,
        okRequests,
        okCompletedInWindow,
        rowsPerRequest,
        new TreeMap<>(outcomes),
        corrected.copy(),
        uncorrected.copy(),
        sendDelay.copy());
  }

  private static long micros(long nanos) {
    return Math.min(MAX_MICROS, Math.max(0, nanos / 1000));
  }
}
