package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Applies to this instance's experiments what every instance sharing them served, clicked and
 * decided (delivered by the shared log, this instance's own facts included), so that all of them
 * hold the same figures and the same decision state. Returned by {@link ExperimentService#share}.
 * Thread-safe.
 */
public final class ExperimentReplication {

  private final Map<String, Experiment> experiments;
  private final ExperimentSaves saves;

  /** Replaces every experiment by a fresh one with its decision state: counts come from the log. */
  ExperimentReplication(
      Map<String, Experiment> experiments,
      ExperimentSaves saves,
      ExperimentMetrics metrics,
      int maxUsers) {
    this.experiments = experiments;
    this.saves = saves;
    for (Experiment old : experiments.values()) {
      Experiment fresh = Experiment.create(old.definition(), metrics, maxUsers);
      ExperimentJson.applyDecisionState(fresh, ExperimentJson.decisionState(old));
      experiments.replace(old.name(), old, fresh);
    }
  }

  /** Whether a shared fact or decision was applied. */
  public enum Applied {
    APPLIED,
    /** No such experiment here, or another generation of it, or another model at that index. */
    IGNORED,
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
      return Applied.IGNORED;
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
      return Applied.IGNORED;
    }
    return e.recordClicks(variant, userId, clicks) ? Applied.APPLIED : Applied.USER_UNKNOWN;
  }

  /**
   * Applies a decision state taken on another instance ({@link ExperimentJson#decisionState});
   * persists the experiment when it changed. Blocking; throws {@link IllegalArgumentException} for
   * a malformed state.
   */
  public Applied applyDecisionState(JsonObject state) {
    Experiment e = experiments.get(state.getString("experiment", ""));
    if (e == null || !ExperimentJson.applyDecisionState(e, state)) {
      return Applied.IGNORED;
    }
    saves.saveWithPromotions(e);
    return Applied.APPLIED;
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
