package ai.distill.gateway.experiment;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * An experiment's decision history, oldest first, bounded to {@link Experiment#MAX_HISTORY}
 * entries: each entry is logged and counted ({@code distill_experiment_decisions_total}) as it is
 * added. Not thread-safe: its {@link Experiment} guards it with its monitor.
 */
final class DecisionHistory {

  private static final System.Logger LOG = System.getLogger(DecisionHistory.class.getName());

  private final String experiment;
  private final ExperimentMetrics metrics;
  private final Deque<Decision> entries = new ArrayDeque<>();

  DecisionHistory(String experiment, ExperimentMetrics metrics) {
    this.experiment = experiment;
    this.metrics = metrics;
  }

  /** Logs, counts and appends a decision taken now. */
  void add(Decision d) {
    LOG.log(
        d.action() == DecisionKind.HOLD ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
        "experiment {0}: {1} {2} ({3}, {4}) {5}",
        experiment,
        d.action().label(),
        d.variant(),
        d.automatic() ? "automatic" : "manual",
        d.reason(),
        d.numbers().encode());
    restore(List.of(d));
    metrics.decision(experiment, d.variant(), d.action().label());
  }

  /** Appends decisions read back from disk (neither logged nor counted again). */
  void restore(List<Decision> decisions) {
    for (Decision d : decisions) {
      entries.addLast(d);
      while (entries.size() > Experiment.MAX_HISTORY) {
        entries.removeFirst();
      }
    }
  }

  /** True when an entry with the same time, action and variant is present. */
  boolean contains(Decision d) {
    for (Decision h : entries) {
      if (h.timestampMillis() == d.timestampMillis()
          && h.action() == d.action()
          && Objects.equals(h.variant(), d.variant())) {
        return true;
      }
    }
    return false;
  }

  List<Decision> list() {
    return new ArrayList<>(entries);
  }
}
