package ai.distill.gateway.experiment;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What of each experiment was last persisted (its history length and change counter), so that only
 * changed experiments are written and each promotion is recorded once. Wraps the repository (null:
 * nothing is kept on disk, only the bookkeeping). Thread-safe.
 */
final class ExperimentSaves {

  private static final System.Logger LOG = System.getLogger(ExperimentSaves.class.getName());

  private final ExperimentRepository repository;
  private final Map<String, Integer> savedHistory = new ConcurrentHashMap<>();
  private final Map<String, Long> savedChanges = new ConcurrentHashMap<>();

  ExperimentSaves(ExperimentRepository repository) {
    this.repository = repository;
  }

  /** An experiment loaded from disk: what is on disk is its present state. */
  void loaded(Experiment e) {
    savedHistory.put(e.name(), e.history().size());
    savedChanges.put(e.name(), e.changes());
  }

  /** True when decisions were taken since the last save. */
  boolean historyChanged(Experiment e) {
    return savedHistory.getOrDefault(e.name(), 0) != e.history().size();
  }

  /** True when anything changed since the last save. */
  boolean changed(Experiment e) {
    return e.changes() != savedChanges.getOrDefault(e.name(), -1L);
  }

  /** Records the promotions decided since the last save, then saves. Blocking. */
  void saveWithPromotions(Experiment e) {
    if (repository != null) {
      int saved = savedHistory.getOrDefault(e.name(), 0);
      List<Decision> history = e.history();
      for (int i = Math.min(saved, history.size()); i < history.size(); i++) {
        Decision d = history.get(i);
        if (d.action() == DecisionKind.PROMOTE) {
          try {
            repository.recordPromotion(e, d);
          } catch (IOException ex) {
            LOG.log(System.Logger.Level.WARNING, "cannot record promotion of " + d.variant(), ex);
          }
        }
      }
    }
    save(e);
  }

  /** Persists the experiment (a failure is logged; the next change tries again). Blocking. */
  void save(Experiment e) {
    int h = e.history().size();
    long changes = e.changes();
    if (repository != null) {
      try {
        repository.save(e);
      } catch (IOException ex) {
        LOG.log(System.Logger.Level.WARNING, "cannot persist experiment " + e.name(), ex);
        return;
      }
    }
    savedHistory.put(e.name(), h);
    savedChanges.put(e.name(), changes);
  }
}
