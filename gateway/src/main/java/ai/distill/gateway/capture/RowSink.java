package ai.distill.gateway.capture;

/**
 * Where captured rows go instead of the local segment files (a shared log, so that every instance's
 * captures can be read in one place). {@link #publish} is called on the capture writer's thread,
 * never blocks and never throws.
 */
@FunctionalInterface
public interface RowSink {

  /**
   * Takes one row line of {@code stream} (the experiment or model), in the rows format; false when
   * it was dropped (full buffer).
   */
  boolean publish(String stream, String line);
}
