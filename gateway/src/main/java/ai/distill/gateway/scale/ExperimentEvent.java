package ai.distill.gateway.scale;

import io.vertx.core.json.JsonObject;

/**
 * One fact about an experiment that every instance folds the same way: a response served (its rows
 * are impressions; a user's first one on a variant is an exposure) or clicks joined to a response.
 * {@code id} makes folding idempotent: the same event delivered twice (a producer retry, the same
 * feedback sent to two instances) counts once.
 *
 * @param id unique per fact ({@code imp:<response id>}, {@code click:<response id>})
 * @param type what happened
 * @param experiment the experiment
 * @param variant the variant index
 * @param model the variant's model
 * @param userId the user, or null (anonymous)
 * @param rows rows scored (impressions)
 * @param clicks clicks joined (0 for an impression)
 * @param atMillis when it happened
 */
public record ExperimentEvent(
    String id,
    Type type,
    String experiment,
    int variant,
    String model,
    String userId,
    int rows,
    int clicks,
    long atMillis) {

  /** Kinds of events. */
  public enum Type {
    IMPRESSION,
    CLICK
  }

  /** The event's value on the topic (JSON). */
  public String encode() {
    return new JsonObject()
        .put("id", id)
        .put("type", type.name().toLowerCase(java.util.Locale.ROOT))
        .put("experiment", experiment)
        .put("variant", variant)
        .put("model", model)
        .put("user_id", userId)
        .put("rows", rows)
        .put("clicks", clicks)
        .put("at", atMillis)
        .encode();
  }

  /** Reads {@link #encode}'s form; throws {@link IllegalArgumentException} for anything else. */
  public static ExperimentEvent decode(String value) {
    try {
      JsonObject o = new JsonObject(value);
      return new ExperimentEvent(
          java.util.Objects.requireNonNull(o.getString("id"), "id"),
          Type.valueOf(o.getString("type").toUpperCase(java.util.Locale.ROOT)),
          java.util.Objects.requireNonNull(o.getString("experiment"), "experiment"),
          o.getInteger("variant"),
          o.getString("model"),
          o.getString("user_id"),
          o.getInteger("rows", 0),
          o.getInteger("clicks", 0),
          o.getLong("at", 0L));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not an experiment event: " + e.getMessage(), e);
    }
  }

  /** The record key: the user (so one user's events stay in order), else the experiment. */
  public String key() {
    return userId != null ? userId : experiment;
  }
}
