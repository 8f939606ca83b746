package ai.distill.gateway.runtime;

import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * The repository index ({@code POST /v2/repository/index}): every stored version with its serving
 * state in a {@link ModelRegistry}. Stateless; {@link #of} reads the store and blocks.
 */
public final class RepositoryIndex {

  /** One row of the repository index. */
  public record Entry(String name, long version, String state, String reason) {}

  private RepositoryIndex() {}

  /** {@code READY} when loaded, {@code LOADING}, or {@code UNAVAILABLE} with the last failure. */
  static List<Entry> of(ModelStore store, ModelRegistry models) {
    List<Entry> entries = new ArrayList<>();
    for (ModelVersion v : store.allVersions()) {
      String state;
      String reason = "";
      if (models.find(v.name(), v.version()) != null) {
        state = "READY";
      } else if (models.isLoading(v.id())) {
        state = "LOADING";
      } else {
        state = "UNAVAILABLE";
        reason = models.failure(v.name(), v.version()).orElse("not loaded");
      }
      entries.add(new Entry(v.name(), v.version(), state, reason));
    }
    return entries;
  }
}
