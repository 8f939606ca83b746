package ai.distill.loadtest.generator;

import java.util.concurrent.locks.LockSupport;

/**
 * The generators' source of time: {@link #SYSTEM} reads {@link System#nanoTime()} and parks the
 * thread; tests inject a simulated clock so that schedules, stalls and completions happen in
 * virtual time and what they assert cannot depend on machine load. Implementations used by a
 * generator must agree with the times its {@link RequestSender} puts into {@link Outcome}s.
 */
interface NanoClock {
  NanoClock SYSTEM =
      new NanoClock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void beforeRun() {
          System.gc();
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

  /**
   * Called once before a run starts its schedule. The system clock collects garbage here, so that
   * the load generator's own heap (rows, bodies, earlier runs' histograms) is not copied by a young
   * collection in the middle of a measurement: such a pause delays every request scheduled during
   * it and would be charged to the server. Simulated clocks do nothing.
   */
  default void beforeRun() {}

  /**
   * Returns once {@link #nanoTime()} has reached {@code nanos} (immediately when it already has).
   */
  void sleepUntil(long nanos);
}
