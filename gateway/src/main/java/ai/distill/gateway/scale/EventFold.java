package ai.distill.gateway.scale;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Folds experiment events into per-variant counts the same way on every instance: impressions (rows
 * served), exposures (distinct users seen on the variant), clicks. Idempotent: an event id already
 * folded is skipped (the last {@code maxRememberedIds} ids are remembered). Memory is bounded by
 * {@code maxUsersPerVariant} (beyond it new users are counted as impressions but not as exposures,
 * and the variant says it is capped). Thread-safe (synchronized).
 *
 * <pre>{@code
 * EventFold fold = new EventFold(1_000_000, 1_000_000);
 * fold.fold(event);
 * JsonObject counts = fold.view("ctr-ab");
 * }</pre>
 */
public final class EventFold {

  private static final class Counts {
    String model;
    long impressions;
    long clicks;
    long anonymousImpressions;
    boolean capped;
    final Set<String> users = new HashSet<>();
  }

  private final int maxUsersPerVariant;
  private final int maxRememberedIds;
  private final Map<String, TreeMap<Integer, Counts>> experiments = new TreeMap<>();
  private final LinkedHashMap<String, Boolean> seen;
  private long folded;

  public EventFold(int maxUsersPerVariant, int maxRememberedIds) {
    if (maxUsersPerVariant <= 0 || maxRememberedIds <= 0) {
      throw new IllegalArgumentException(
          "maxUsersPerVariant, maxRememberedIds : "
              + maxUsersPerVariant
              + ", "
              + maxRememberedIds
              + " (expected: > 0)");
    }
    this.maxUsersPerVariant = maxUsersPerVariant;
    this.maxRememberedIds = maxRememberedIds;
    this.seen =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > EventFold.this.maxRememberedIds;
          }
        };
  }

  /** Folds one event; returns false when it was a duplicate (already folded). */
  public synchronized boolean fold(ExperimentEvent e) {
    if (seen.put(e.id(), Boolean.TRUE) != null) {
      return false;
    }
    folded++;
    Counts c =
        experiments
            .computeIfAbsent(e.experiment(), k -> new TreeMap<>())
            .computeIfAbsent(e.variant(), k -> new Counts());
    if (e.model() != null) {
      c.model = e.model();
    }
    switch (e.type()) {
      case IMPRESSION -> {
        c.impressions += e.rows();
        if (e.userId() == null) {
          c.anonymousImpressions += e.rows();
        } else if (!c.users.contains(e.userId())) {
          if (c.users.size() < maxUsersPerVariant) {
            c.users.add(e.userId());
          } else {
            c.capped = true;
          }
        }
      }
      case CLICK -> c.clicks += e.clicks();
      case FAILURE -> {
        // the error guardrail's figure: counted by the experiments themselves, not here
      }
    }
    return true;
  }

  /** Events folded (duplicates not counted). */
  public synchronized long folded() {
    return folded;
  }

  /**
   * The folded counts of an experiment: {@code {"experiment", "variants": [{"variant", "model",
   * "exposures", "impressions", "clicks", ...}]}}; no variants when nothing was folded for it.
   */
  public synchronized JsonObject view(String experiment) {
    JsonArray variants = new JsonArray();
    for (Map.Entry<Integer, Counts> v :
        experiments.getOrDefault(experiment, new TreeMap<>()).entrySet()) {
      Counts c = v.getValue();
      variants.add(
          new JsonObject()
              .put("variant", v.getKey())
              .put("model", c.model)
              .put("exposures", c.users.size())
              .put("impressions", c.impressions)
              .put("anonymous_impressions", c.anonymousImpressions)
              .put("clicks", c.clicks)
              .put("capped", c.capped));
    }
    return new JsonObject().put("experiment", experiment).put("variants", variants);
  }
}
