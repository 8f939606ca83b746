package ai.distill.gateway.runtime;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The versions a {@link ModelRegistry} routes requests to, by model name then version: an immutable
 * snapshot that the registry replaces as a whole ({@link #swapIn}, {@link #without}), so readers
 * never lock. Knows the swap rules (a new unpinned version retires the older unpinned ones; a
 * version superseded while it loaded never serves) but holds no references and closes nothing.
 */
final class ServingVersions {

  static final ServingVersions EMPTY = new ServingVersions(Map.of());

  /** The next snapshot, and the versions it no longer routes to (to be released). */
  record Swap(ServingVersions next, List<LoadedModel> retired) {}

  private final Map<String, NavigableMap<Long, LoadedModel>> byName;

  private ServingVersions(Map<String, NavigableMap<Long, LoadedModel>> byName) {
    this.byName = byName;
  }

  /** The loaded versions of {@code name}, ascending, or null when none. */
  NavigableMap<Long, LoadedModel> get(String name) {
    return byName.get(name);
  }

  /** Loaded model names, sorted. */
  List<String> names() {
    return List.copyOf(new TreeMap<>(byName).keySet());
  }

  /** Every loaded version, by name then version. */
  List<LoadedModel> models() {
    List<LoadedModel> all = new ArrayList<>();
    for (NavigableMap<Long, LoadedModel> versions : new TreeMap<>(byName).values()) {
      all.addAll(versions.values());
    }
    return all;
  }

  /**
   * Adds {@code model}. Unless it is pinned it retires the older unpinned versions of its name, and
   * it does not serve at all when a newer unpinned version finished loading first.
   */
  Swap swapIn(LoadedModel model) {
    List<LoadedModel> retired = new ArrayList<>();
    Map<String, NavigableMap<Long, LoadedModel>> next = new HashMap<>(byName);
    NavigableMap<Long, LoadedModel> versions =
        new TreeMap<>(next.getOrDefault(model.name(), Collections.emptyNavigableMap()));
    boolean superseded = false;
    if (!model.pinned()) {
      for (LoadedModel newer : versions.tailMap(model.version(), false).values()) {
        superseded |= !newer.pinned();
      }
    }
    LoadedModel previous = superseded ? null : versions.put(model.version(), model);
    if (previous != null) {
      retired.add(previous);
    }
    if (superseded) {
      // A newer version finished loading first: this one never serves.
      retired.add(model);
    } else if (!model.pinned()) {
      for (LoadedModel older : List.copyOf(versions.headMap(model.version(), false).values())) {
        if (!older.pinned()) {
          versions.remove(older.version());
          retired.add(older);
        }
      }
    }
    next.put(model.name(), Collections.unmodifiableNavigableMap(versions));
    return new Swap(new ServingVersions(Collections.unmodifiableMap(next)), retired);
  }

  /** This snapshot without {@code models} (those not in it are ignored). */
  ServingVersions without(List<LoadedModel> models) {
    Map<String, NavigableMap<Long, LoadedModel>> next = new HashMap<>(byName);
    for (LoadedModel m : models) {
      NavigableMap<Long, LoadedModel> versions = next.get(m.name());
      if (versions == null || versions.get(m.version()) != m) {
        continue;
      }
      NavigableMap<Long, LoadedModel> rest = new TreeMap<>(versions);
      rest.remove(m.version());
      if (rest.isEmpty()) {
        next.remove(m.name());
      } else {
        next.put(m.name(), Collections.unmodifiableNavigableMap(rest));
      }
    }
    return new ServingVersions(Collections.unmodifiableMap(next));
  }
}
