package ai.distill.optimizer.job;

import java.util.function.Consumer;

/**
 * Receives a job's progress and answers whether it should stop. A job reports each step as a stage
 * name (e.g. {@code calibrate}, {@code train}), the fraction of the whole job done so far (0..1,
 * never decreasing) and a human-readable line; it asks {@link #cancelRequested()} between steps and
 * stops with a {@link JobCancelledException}. Called on the job's own thread; implementations must
 * be cheap and must not block.
 *
 * <pre>{@code
 * QuantizeJob.run(store, request, ProgressListener.lines(System.err::println));
 * }</pre>
 */
@FunctionalInterface
public interface ProgressListener {

  /** Ignores progress and never cancels. */
  ProgressListener NONE = (stage, fraction, message) -> {};

  /**
   * @param stage short name of the current step
   * @param fraction share of the whole job done, 0..1
   * @param message one line for a person to read
   */
  void progress(String stage, double fraction, String message);

  /** Whether the job should stop at its next check (default: never). */
  default boolean cancelRequested() {
    return false;
  }

  /** Throws {@link JobCancelledException} naming {@code stage} if cancellation was requested. */
  default void checkCancelled(String stage) {
    if (cancelRequested()) {
      throw new JobCancelledException(stage);
    }
  }

  /**
   * This listener seen by a sub-step that covers {@code [from, to]} of the job: its 0..1 maps into
   * that span.
   */
  default ProgressListener within(double from, double to) {
    ProgressListener outer = this;
    return new ProgressListener() {
      @Override
      public void progress(String stage, double fraction, String message) {
        outer.progress(stage, from + (to - from) * Math.max(0, Math.min(1, fraction)), message);
      }

      @Override
      public boolean cancelRequested() {
        return outer.cancelRequested();
      }
    };
  }

  /** This listener with every message prefixed, e.g. {@code "int8: "}. */
  default ProgressListener prefixed(String prefix) {
    ProgressListener outer = this;
    return new ProgressListener() {
      @Override
      public void progress(String stage, double fraction, String message) {
        outer.progress(stage, fraction, prefix + message);
      }

      @Override
      public boolean cancelRequested() {
        return outer.cancelRequested();
      }
    };
  }

  /** Hands each message line to {@code lines} (a terminal, a log); never cancels. */
  static ProgressListener lines(Consumer<String> lines) {
    return (stage, fraction, message) -> lines.accept(message);
  }
}
