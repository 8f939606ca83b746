package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonObject;

/**
 * One entry of an experiment's history: what was decided about which variant, why, whether the
 * engine or an operator decided it, and the numbers it was decided on. Immutable; JSON by {@link
 * ExperimentJson}.
 *
 * @param action {@link DecisionKind#PROMOTE}, {@link DecisionKind#ROLLBACK}, {@link
 *     DecisionKind#STOP} or {@link DecisionKind#HOLD} (holds enter the history only when a
 *     variant's decision changes to hold from something else)
 * @param numbers the figures behind the decision (difference, bounds, p-values, p99s, error
 *     rates...)
 */
public record Decision(
    long timestampMillis,
    DecisionKind action,
    String variant,
    String reason,
    boolean automatic,
    JsonObject numbers) {}
