package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonObject;

/**
 * One entry of an experiment's history: what was decided about which variant, why, whether the engine
 * or an operator decided it, and the numbers it was decided on. Immutable.
 *
 * @param action  {@link DecisionKind#PROMOTE}, {@link DecisionKind#ROLLBACK}, {@link DecisionKind#STOP} or
 *                {@link DecisionKind#HOLD} (holds enter the history only when a variant's decision changes
 *                to hold from something else)
 * @param numbers the figures behind the decision (difference, bounds, p-values, p99s, error rates...)
 */
public record Decision(long timestampMillis, DecisionKind action, String variant, String reason, boolean automatic,
                       JsonObject numbers) {

    public JsonObject toJson() {
        return new JsonObject().put("ts", timestampMillis).put("action", action.label()).put("variant", variant)
                .put("reason", reason).put("automatic", automatic).put("numbers", numbers.copy());
    }

    static Decision fromJson(JsonObject o) {
        return new Decision(o.getLong("ts", 0L), DecisionKind.parse(o.getString("action")), o.getString("variant"),
                o.getString("reason"), o.getBoolean("automatic", false),
                o.getJsonObject("numbers", new JsonObject()));
    }
}
