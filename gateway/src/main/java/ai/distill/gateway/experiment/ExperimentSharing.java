package ai.distill.gateway.experiment;

/**
 * How an {@link ExperimentService} shares its experiments with other instances (installed by {@code
 * scale.ScaleRoutes} when Kafka is configured; absent, every instance counts and decides alone).
 * Once installed, requests served here are not counted directly: every instance counts what the
 * shared log delivers ({@link ExperimentService#applyServed}, {@link
 * ExperimentService#applyClicks}), so all of them hold the same figures; only the instance that
 * {@link #decides} takes automatic decisions, and every decision state ({@link
 * ExperimentJson#decisionState}) is handed to {@link #decided} for the others to apply ({@link
 * ExperimentService#applyDecisionState}). New experiments and generations are {@link #define}d
 * through the log too, so every instance runs the same ones. Implementations are thread-safe; only
 * {@link #define} blocks.
 */
public interface ExperimentSharing {

  /** Not shared: this instance counts what it serves and decides alone. */
  ExperimentSharing ALONE =
      new ExperimentSharing() {
        @Override
        public boolean decides() {
          return true;
        }

        @Override
        public void decided(Experiment experiment) {}
      };

  /** True while this instance is the one that takes automatic decisions. */
  boolean decides();

  /** The decision state of {@code experiment} changed here (automatic or manual): share it. */
  void decided(Experiment experiment);

  /**
   * Shares a new experiment, or the next generation of one, through the log and returns true once
   * this instance has installed it from there ({@link ExperimentReplication#applyDefinition}), as
   * every instance does; false when not shared (the caller installs it itself). Blocking; throws
   * when the log cannot take it (nothing was installed then).
   *
   * @param supersedes why the running generation stops; null for a new experiment
   */
  default boolean define(ExperimentDefinition definition, String supersedes) {
    return false;
  }
}
