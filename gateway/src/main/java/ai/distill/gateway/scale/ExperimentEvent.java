package ai.distill.gateway.scale;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Objects;

/**
 * One fact about an experiment that every instance folds the same way: a response served (its rows
 * are impressions; a user's first one on a variant is an exposure), a request that failed (model
 * error or shed: the error guardrail's figures) or clicks joined to a response. {@code id} makes
 * folding idempotent: the same event delivered twice (a producer retry, the same feedback sent to
 * two instances) counts once.
 *
 * @param id unique per fact ({@code imp:<response id>}, {@code click:<response id>})
 * @param type what happened
 * @param experiment the experiment
 * @param generation which definition of the experiment it happened under ({@code
 *     ExperimentJson.generation})
 * @param variant the variant index
 * @param model the variant's model
 * @param userId the user, or null (anonymous)
 * @param rows rows scored (impressions)
 * @param clicks clicks joined (0 for an impression)
 * @param atMillis when it happened
 * @param responseId the response the fact is about (null for a failure), which joins a click that
 *     arrives before its impression
 * @param outcome how the request ended ({@code RequestOutcome} label; "ok" for clicks)
 * @param version the model version that served it, -1 if none
 * @param latencyNanos end to end (shown only)
 * @param costNanos what the model cost the request (queue wait + compute: the latency guardrail)
 */
public record ExperimentEvent(
    String id,
    Type type,
    String experiment,
    String generation,
    int variant,
    String model,
    String userId,
    int rows,
    int clicks,
    long atMillis,
    String responseId,
    String outcome,
    long version,
    long latencyNanos,
    long costNanos) {

  /** Kinds of events. */
  public enum Type {
    IMPRESSION,
    FAILURE,
    CLICK
  }

  /** The event's value on the topic (JSON). */
  public String encode() {
    return new JsonObject()
        .put("id", id)
        .put("type", type.name().toLowerCase(Locale.ROOT))
        .put("experiment", experiment)
        .put("generation", generation)
        .put("variant", variant)
        .put("model", model)
        .put("user_id", userId)
        .put("rows", rows)
        .put("clicks", clicks)
        .put("at", atMillis)
        .put("response_id", responseId)
        .put("outcome", outcome)
        .put("version", version)
        .put("latency_ns", latencyNanos)
        .put("cost_ns", costNanos)
        .encode();
  }

  /** Reads {@link #encode}'s form; throws {@link IllegalArgumentException} for anything else. */
  public static ExperimentEvent decode(String value) {
    try {
      JsonObject o = new JsonObject(value);
      return new ExperimentEvent(
          Objects.requireNonNull(o.getString("id"), "id"),
          Type.valueOf(o.getString("type").toUpperCase(Locale.ROOT)),
          Objects.requireNonNull(o.getString("experiment"), "experiment"),
          o.getString("generation", ""),
          o.getInteger("variant"),
          o.getString("model"),
          o.getString("user_id"),
          o.getInteger("rows", 0),
          o.getInteger("clicks", 0),
          o.getLong("at", 0L),
          o.getString("response_id"),
          o.getString("outcome", "ok"),
          o.getLong("version", -1L),
          o.getLong("latency_ns", 0L),
          o.getLong("cost_ns", 0L));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not an experiment event: " + e.getMessage(), e);
    }
  }

  /** The record key: the user (so one user's events stay in order), else the experiment. */
  public String key() {
    return userId != null ? userId : experiment;
  }
}
