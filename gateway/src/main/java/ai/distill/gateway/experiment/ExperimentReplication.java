package ai.distill.gateway.experiment;

import ai.distill.gateway.feedback.Impression;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Applies to this instance's experiments what every instance sharing them served, clicked and
 * decided (delivered by the shared log, this instance's own facts included), so that all of them
 * hold the same figures and the same decision state. Returned by {@link ExperimentService#share}.
 * Thread-safe.
 */
public final class ExperimentReplication {

  private final Map<String, Experiment> experiments;
  private final ExperimentSaves saves;
  private final ExperimentGenerations generations;
  // by name: the generation installed from a shared record, whose creation time all instances share
  private final Map<String, String> shared = new ConcurrentHashMap<>();

  /** Replaces every experiment by a fresh one with its decision state: counts come from the log. */
  ExperimentReplication(
      Map<String, Experiment> experiments,
      ExperimentSaves saves,
      ExperimentGenerations generations,
      ExperimentMetrics metrics,
      int maxUsers) {
    this.experiments = experiments;
    this.saves = saves;
    this.generations = generations;
    for (Experiment old : experiments.values()) {
      generations.known(old.name(), ExperimentJson.generation(old.definition()));
      Experiment fresh =
          new Experiment(
              old.definition(),
              StickyAssigner.create(
                  old.name(), old.definition().salt(), old.definition().weights()),
              old.definition().weights(),
              old.createdMillis(),
              metrics,
              maxUsers);
      ExperimentJson.applyDecisionState(fresh, ExperimentJson.decisionState(old));
      experiments.replace(old.name(), old, fresh);
    }
  }

  /** Whether a shared fact or decision was applied. */
  public enum Applied {
    APPLIED,
    /** A past generation here, or another model at that index, or the same state again. */
    IGNORED,
    /** An experiment or generation not defined here (yet: its definition may be on its way). */
    NOT_YET,
    /** Clicks of a user the variant has not seen yet (their impression is still on its way). */
    USER_UNKNOWN
  }

  /**
   * Counts a request served by any instance sharing the experiment (see {@link Experiment#
   * recordServed}); {@code generation} is {@link ExperimentJson#generation} of the definition it
   * was served under. Non-blocking.
   */
  public Applied applyServed(
      String experiment,
      String generation,
      int variant,
      String model,
      String userId,
      int rows,
      RequestOutcome outcome,
      long latencyNanos,
      long costNanos,
      long version) {
    Experiment e = generationOf(experiment, generation, variant, model);
    if (e == null) {
      return missing(experiment, generation);
    }
    ExperimentDefinition.Variant v = e.definition().variants().get(variant);
    boolean anonymous = userId == null || userId.isEmpty();
    e.recordServed(
        new Experiment.Assignment(variant, v.model(), v.version(), anonymous, -1),
        userId,
        rows,
        outcome,
        latencyNanos,
        costNanos,
        outcome == RequestOutcome.OK && version >= 0 ? version : null);
    return Applied.APPLIED;
  }

  /** Counts clicks joined on any instance sharing the experiment. Non-blocking. */
  public Applied applyClicks(
      String experiment, String generation, int variant, String model, String userId, int clicks) {
    Experiment e = generationOf(experiment, generation, variant, model);
    if (e == null) {
      return missing(experiment, generation);
    }
    return e.recordClicks(variant, userId, clicks) ? Applied.APPLIED : Applied.USER_UNKNOWN;
  }

  /**
   * Applies a decision state taken on another instance ({@link ExperimentJson#decisionState});
   * persists the experiment when it changed. Blocking; throws {@link IllegalArgumentException} for
   * a malformed state.
   */
  public Applied applyDecisionState(JsonObject state) {
    String name = state.getString("experiment", "");
    Experiment e = experiments.get(name);
    String generation = state.getString("generation", "");
    if (e == null || !ExperimentJson.generation(e.definition()).equals(generation)) {
      return missing(name, generation);
    }
    if (!ExperimentJson.applyDecisionState(e, state)) {
      return Applied.IGNORED;
    }
    saves.saveWithPromotions(e);
    return Applied.APPLIED;
  }

  /**
   * The shared record of a new experiment, or of an experiment's next generation: {@code
   * {"experiment", "generation", "definition", "created_millis", "supersedes"}} ({@code
   * supersedes}: why the running generation stops, absent for a new experiment). Every instance
   * sharing the experiments, the one that made it included, installs it with {@link
   * #applyDefinition}, in the order of the log.
   */
  public static JsonObject definitionRecord(
      ExperimentDefinition d, String supersedes, long createdMillis) {
    return new JsonObject()
        .put("experiment", d.name())
        .put("generation", ExperimentJson.generation(d))
        .put("definition", ExperimentJson.toJson(d))
        .put("created_millis", createdMillis)
        .put("supersedes", supersedes);
  }

  /**
   * Installs a {@link #definitionRecord}: a new experiment, or the next generation of one (the
   * running generation stopped with the record's reason, saved and archived); IGNORED when that
   * generation already runs here. Blocking; throws {@link IllegalArgumentException} for a malformed
   * record.
   */
  public Applied applyDefinition(JsonObject record) {
    ExperimentDefinition d = ExperimentJson.definition(record.getJsonObject("definition"));
    String generation = ExperimentJson.generation(d);
    if (!generation.equals(record.getString("generation"))) {
      throw new IllegalArgumentException(
          "definition record of "
              + d.name()
              + ": generation "
              + record.getString("generation")
              + " does not match its definition's ("
              + generation
              + ")");
    }
    Experiment current = experiments.get(d.name());
    if (current != null && ExperimentJson.generation(current.definition()).equals(generation)) {
      if (current.createdMillis() == record.getLong("created_millis", -1L)) {
        shared.put(d.name(), generation); // restored from this instance's snapshot
      }
      return Applied.IGNORED;
    }
    String reason = record.getString("supersedes");
    generations.next(
        d,
        reason != null ? reason : "superseded by a new definition (next generation)",
        record.getLong("created_millis", System.currentTimeMillis()));
    shared.put(d.name(), generation);
    return Applied.APPLIED;
  }

  /**
   * A {@link #definitionRecord} superseded on the log before this instance got to it: facts of its
   * generation are of the past here, not awaited.
   */
  public void superseded(JsonObject record) {
    generations.known(record.getString("experiment", ""), record.getString("generation", ""));
  }

  /**
   * The generation a joined impression counts in: the running generation of its experiment when it
   * was served under it (on one of its arms, and, for a generation installed from a shared record,
   * whose creation time every instance shares, after it began); null otherwise (a past
   * generation's).
   */
  public String generationServed(Impression i) {
    Experiment e = i.experiment() == null ? null : experiments.get(i.experiment());
    if (e == null) {
      return null;
    }
    List<ExperimentDefinition.Variant> arms = e.definition().variants();
    String generation = ExperimentJson.generation(e.definition());
    long servedAt = i.expiresAtMillis() - e.definition().attributionWindowSeconds() * 1000;
    boolean timed = generation.equals(shared.get(e.name()));
    return i.variant() >= 0
            && i.variant() < arms.size()
            && arms.get(i.variant()).model().equals(i.model())
            && (!timed || servedAt >= e.createdMillis())
        ? generation
        : null;
  }

  // No experiment of that generation here: a past one (ignored), or one not defined here yet.
  private Applied missing(String name, String generation) {
    Experiment e = experiments.get(name);
    return (e != null && ExperimentJson.generation(e.definition()).equals(generation))
            || generations.isKnown(name, generation)
        ? Applied.IGNORED
        : Applied.NOT_YET;
  }

  private Experiment generationOf(String name, String generation, int variant, String model) {
    Experiment e = experiments.get(name);
    if (e == null
        || !ExperimentJson.generation(e.definition()).equals(generation)
        || variant < 0
        || variant >= e.definition().variants().size()
        || !e.definition().variants().get(variant).model().equals(model)) {
      return null;
    }
    return e;
  }
}
