package ai.distill.loadtest.generator;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.PriorityQueue;

/**
 * A gateway and the client's connection pool simulated in virtual time, for tests that must not
 * depend on machine load: it is the generator's {@link NanoClock} (sleeping runs the due events in
 * time order) and its {@link RequestSender}. Each request waits for one of {@code connections}
 * (FIFO, like the HTTP client's pool; {@link Outcome#sentNanos()} is when it got one), then the
 * server answers after {@code service}; a request arriving inside a stall is answered at the
 * stall's end plus {@code service} (like a GC pause); beyond {@code maxInFlight} admitted requests
 * it answers {@code rejectStatus} at once. With {@link #scheduling()} it also takes sends handed
 * over ahead of time, as events. Single-threaded: everything runs on the caller's thread.
 */
final class SimulatedGateway implements NanoClock, RequestSender {
  private record Event(long at, long seq, Runnable action) {}

  private record Waiting(long requestedAt, Promise<Outcome> promise) {}

  private final PriorityQueue<Event> events =
      new PriorityQueue<>(
          (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
  private final ArrayDeque<Waiting> pool = new ArrayDeque<>();
  private final long serviceNanos;
  private int freeConnections;
  private long now = 1_000_000_000L;
  private long seq;
  private long stallFrom = Long.MAX_VALUE;
  private long stallUntil = Long.MIN_VALUE;
  private int maxInFlight = Integer.MAX_VALUE;
  private int rejectStatus = 429;
  private int inFlight;
  private boolean scheduling;
  private long scheduled;

  SimulatedGateway(int connections, Duration service) {
    this.freeConnections = connections;
    this.serviceNanos = service.toNanos();
  }

  /**
   * Requests arriving within [now + startIn, now + startIn + length) are answered at the stall's
   * end.
   */
  SimulatedGateway stall(Duration startIn, Duration length) {
    stallFrom = now + startIn.toNanos();
    stallUntil = stallFrom + length.toNanos();
    return this;
  }

  /** Requests arriving while {@code n} are admitted get {@code status} at once. */
  SimulatedGateway limitInFlight(int n, int status) {
    maxInFlight = n;
    rejectStatus = status;
    return this;
  }

  /**
   * Accepts {@link #schedule}d sends (they run as events at their time), like the real HTTP client.
   */
  SimulatedGateway scheduling() {
    scheduling = true;
    return this;
  }

  /** Sends handed over through {@link #schedule}. */
  long scheduledSends() {
    return scheduled;
  }

  @Override
  public boolean canSchedule() {
    return scheduling;
  }

  @Override
  public void schedule(long nanos, Runnable task) {
    if (!scheduling) {
      throw new UnsupportedOperationException("not scheduling");
    }
    scheduled++;
    at(nanos, task);
  }

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public void sleepUntil(long nanos) {
    while (!events.isEmpty() && events.peek().at <= nanos) {
      Event e = events.poll();
      now = Math.max(now, e.at);
      e.action.run();
    }
    now = Math.max(now, nanos);
  }

  @Override
  public Future<Outcome> send(long i) {
    Promise<Outcome> promise = Promise.promise();
    pool.add(new Waiting(now, promise));
    dispatch();
    return promise.future();
  }

  private void dispatch() {
    while (freeConnections > 0 && !pool.isEmpty()) {
      freeConnections--;
      Promise<Outcome> promise = pool.poll().promise();
      long sent = now;
      if (inFlight >= maxInFlight) {
        at(sent, () -> answer(promise, rejectStatus, sent));
        continue;
      }
      inFlight++;
      long start = sent >= stallFrom && sent < stallUntil ? stallUntil : sent;
      at(
          start + serviceNanos,
          () -> {
            inFlight--;
            answer(promise, 200, sent);
          });
    }
  }

  private void answer(Promise<Outcome> promise, int status, long sent) {
    freeConnections++;
    promise.complete(Outcome.response(status, sent, now, null));
    dispatch();
  }

  private void at(long time, Runnable action) {
    events.add(new Event(time, seq++, action));
  }
}
