package ai.distill.store;

/**
 * A change in the store seen by a {@link StoreWatcher}: a complete version appeared ({@link
 * Kind#ADDED}) or disappeared ({@link Kind#REMOVED}). A version number that was removed and
 * published again is reported as REMOVED followed by ADDED.
 */
public record StoreEvent(Kind kind, String name, long version) {

  /** What happened to the version. */
  public enum Kind {
    ADDED,
    REMOVED
  }

  /** {@code "name:version"}, as {@link ModelVersion#id()}. */
  public String id() {
    return name + ":" + version;
  }
}
