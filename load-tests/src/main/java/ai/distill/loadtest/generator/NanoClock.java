package ai.distill.loadtest.generator;

import java.util.concurrent.locks.LockSupport;

/**
 * The generators' source of time: {@link #SYSTEM} reads {@link System#nanoTime()} and parks the
 * thread; tests inject a simulated clock so that schedules, stalls and completions happen in
 * virtual time and what they assert cannot depend on machine load. Implementations used by a
 * generator must agree with the times its {@link RequestSender} puts into {@link Outcome}s.
 */
interface NanoClock {
  NanoClock SYSTEM = new NanoClock() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void sleepUntil(long nanos) {
      long now;
      while ((now = System.nanoTime()) < nanos) {
        LockSupport.parkNanos(nanos - now);
      }
    }
  };

  long nanoTime();

  /** Returns once {@link #nanoTime()} has reached {@code nanos} (immediately when it already has). */
  void sleepUntil(long nanos);
}
