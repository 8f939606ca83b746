package ai.distill.loadtest.generator;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What one measurement window (or several merged) measured. Histograms are in microseconds and must
 * not be modified by readers.
 *
 * @param okCompletedInWindow successful responses completed within the window's wall-clock span
 * @param outcomes counts by HTTP status ("200", "429", ...) or transport error ("connect",
 *     "timeout")
 * @param sendDelay per successful request, how late it went on a connection after its intended
 *     start: the client's own share of {@code corrected} (its scheduling, GC, connection pool); a
 *     p99 of more than a fraction of a millisecond means the client could not keep its schedule
 */
public record WindowResult(
    int index,
    double seconds,
    long sent,
    long clientSaturated,
    long okRequests,
    long okCompletedInWindow,
    int rowsPerRequest,
    Map<String, Long> outcomes,
    Histogram corrected,
    Histogram uncorrected,
    Histogram sendDelay) {

  /** A window without send delays recorded (an empty histogram). */
  public WindowResult(
      int index,
      double seconds,
      long sent,
      long clientSaturated,
      long okRequests,
      long okCompletedInWindow,
      int rowsPerRequest,
      Map<String, Long> outcomes,
      Histogram corrected,
      Histogram uncorrected) {
    this(
        index,
        seconds,
        sent,
        clientSaturated,
        okRequests,
        okCompletedInWindow,
        rowsPerRequest,
        outcomes,
        corrected,
        uncorrected,
        new Histogram(WindowRecorder.MAX_MICROS, 3));
  }

  /** Achieved successful requests per second. */
  public double throughput() {
    return seconds > 0 ? okCompletedInWindow / seconds : 0;
  }

  public double rowsPerSecond() {
    return throughput() * rowsPerRequest;
  }

  public double p99Millis() {
    return corrected.getTotalCount() == 0 ? 0 : corrected.getValueAtPercentile(99) / 1000.0;
  }

  public LatencySummary latency() {
    return LatencySummary.of(corrected);
  }

  public LatencySummary uncorrectedLatency() {
    return LatencySummary.of(uncorrected);
  }

  public LatencySummary sendDelayLatency() {
    return LatencySummary.of(sendDelay);
  }

  /** Requests that ended in a non-2xx status or a transport error. */
  public long errors() {
    long n = 0;
    for (Map.Entry<String, Long> e : outcomes.entrySet()) {
      if (!e.getKey().startsWith("2")) {
        n += e.getValue();
      }
    }
    return n;
  }

  public long count(String outcomeKey) {
    return outcomes.getOrDefault(outcomeKey, 0L);
  }

  /** Requests that got a 5xx status. */
  public long serverErrors() {
    long n = 0;
    for (Map.Entry<String, Long> e : outcomes.entrySet()) {
      if (e.getKey().length() == 3 && e.getKey().startsWith("5")) {
        n += e.getValue();
      }
    }
    return n;
  }

  /** The windows as one: counts and histograms summed, seconds added. */
  public static WindowResult merge(List<WindowResult> windows) {
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("windows : [] (expected: at least one window)");
    }
    Histogram corrected = new Histogram(WindowRecorder.MAX_MICROS, 3);
    Histogram uncorrected = new Histogram(WindowRecorder.MAX_MICROS, 3);
    Histogram sendDelay = new Histogram(WindowRecorder.MAX_MICROS, 3);
    Map<String, Long> outcomes = new TreeMap<>();
    double seconds = 0;
    long sent = 0;
    long saturated = 0;
    long ok = 0;
    long okInWindow = 0;
    for (WindowResult w : windows) {
      corrected.add(w.corrected);
      uncorrected.add(w.uncorrected);
      sendDelay.add(w.sendDelay);
      w.outcomes.forEach((k, v) -> outcomes.merge(k, v, Long::sum));
      seconds += w.seconds;
      sent += w.sent;
      saturated += w.clientSaturated;
      ok += w.okRequests;
      okInWindow += w.okCompletedInWindow;
    }
    return new WindowResult(
        windows.get(windows.size() - 1).index,
        seconds,
        sent,
        saturated,
        ok,
        okInWindow,
        windows.get(0).rowsPerRequest,
        outcomes,
        corrected,
        uncorrected,
        sendDelay);
  }
}
