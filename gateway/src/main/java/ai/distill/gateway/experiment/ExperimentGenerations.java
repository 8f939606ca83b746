package ai.distill.gateway.experiment;

import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Puts experiments in place under their names: a new one, or the next generation of one (the
 * running generation stopped with a reason, saved and archived under {@code experiments/archive/},
 * the next one installed in its place with no gap in between). Remembers the generations each name
 * had here (bounded), so that shared facts of a past generation can be told from those of a
 * generation not defined here yet. Thread-safe; installing persists (blocking).
 */
final class ExperimentGenerations {

  private static final System.Logger LOG = System.getLogger(ExperimentGenerations.class.getName());
  static final int MAX_KNOWN = 10_000;

  private final Map<String, Experiment> experiments;
  private final ExperimentSaves saves;
  private final ExperimentRepository repository;
  private final ExperimentMetrics metrics;
  private final int maxUsers;
  private final Set<String> known =
      Collections.synchronizedSet(
          Collections.newSetFromMap(
              new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > MAX_KNOWN;
                }
              }));

  ExperimentGenerations(
      Map<String, Experiment> experiments,
      ExperimentSaves saves,
      ExperimentRepository repository,
      ExperimentMetrics metrics,
      int maxUsers) {
    this.experiments = experiments;
    this.saves = saves;
    this.repository = repository;
    this.metrics = metrics;
    this.maxUsers = maxUsers;
  }

  /** Throws {@link ExperimentConflictException} (HTTP 409) when {@code name} is taken. */
  void checkAbsent(String name) {
    if (experiments.containsKey(name)) {
      throw conflict(name);
    }
  }

  /**
   * Puts a new experiment under its name, or in place of {@code replacing}, created at {@code
   * createdMillis}; persists it.
   */
  Experiment install(ExperimentDefinition def, Experiment replacing, long createdMillis) {
    double[] w = def.weights();
    Experiment e =
        new Experiment(
            def,
            StickyAssigner.create(def.name(), def.salt(), w),
            w,
            createdMillis,
            metrics,
            maxUsers);
    boolean installed =
        replacing == null
            ? experiments.putIfAbsent(def.name(), e) == null
            : experiments.replace(def.name(), replacing, e);
    if (!installed) {
      throw conflict(def.name());
    }
    known(def.name(), ExperimentJson.generation(def));
    saves.save(e);
    return e;
  }

  /**
   * Makes {@code next} the experiment under its name: the current one, if any, is stopped (when
   * running) with {@code reason}, saved and archived, and {@code next} takes its place.
   */
  synchronized Experiment next(ExperimentDefinition next, String reason, long createdMillis) {
    Experiment current = experiments.get(next.name());
    if (current != null) {
      if (current.status() == Experiment.Status.RUNNING) {
        current.stop(reason);
      }
      saves.save(current);
      if (repository != null) {
        try {
          repository.archive(current);
        } catch (IOException ex) {
          LOG.log(System.Logger.Level.WARNING, "cannot archive experiment " + next.name(), ex);
        }
      }
    }
    return install(next, current, createdMillis);
  }

  /** Remembers that {@code name} had {@code generation} here (or it was superseded elsewhere). */
  void known(String name, String generation) {
    known.add(name + "@" + generation);
  }

  /** True when {@code generation} of {@code name} was installed or superseded here. */
  boolean isKnown(String name, String generation) {
    return known.contains(name + "@" + generation);
  }

  private static ExperimentConflictException conflict(String name) {
    return new ExperimentConflictException(
        "name: experiment '"
            + name
            + "' already exists "
            + "(expected: a new name, or stop the existing one first)");
  }
}
