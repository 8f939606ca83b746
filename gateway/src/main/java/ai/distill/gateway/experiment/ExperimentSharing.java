package ai.distill.gateway.experiment;

/**
 * How an {@link ExperimentService} shares its experiments with other instances (installed by {@code
 * scale.ScaleRoutes} when Kafka is configured; absent, every instance counts and decides alone).
 * Once installed, requests served here are not counted directly: every instance counts what the
 * shared log delivers ({@link ExperimentService#applyServed}, {@link
 * ExperimentService#applyClicks}), so all of them hold the same figures; only the instance that
 * {@link #decides} takes automatic decisions, and every decision state ({@link
 * ExperimentJson#decisionState}) is handed to {@link #decided} for the others to apply ({@link
 * ExperimentService#applyDecisionState}). Implementations are thread-safe and never block.
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
}
