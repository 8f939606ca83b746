package ai.distill.gateway.feedback;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Click feedback for served responses: whoever served a response {@link #remember}s its impression
 * (an experiment for every response it routes, capture for every plain model response it samples),
 * and {@link #feedback} joins clicks to it and tells the {@link JoinListener}s (the experiment's
 * counts, the captured rows' labels). Vert.x-agnostic and thread-safe; nothing here blocks.
 *
 * <pre>{@code
 * FeedbackService feedback = new FeedbackService(FeedbackService.DEFAULT_MAX_ENTRIES, FeedbackMetrics.NOOP);
 * feedback.addJoinListener((impression, clicks) -> ...);
 * feedback.remember(new Impression("r1", null, -1, "ctr", "u42", 3, deadline));
 * FeedbackOutcome o = feedback.feedback("r1", new int[] {0, 1, 0});
 * }</pre>
 */
public final class FeedbackService {

  /** Impressions remembered at most, by default. */
  public static final int DEFAULT_MAX_ENTRIES = 1_000_000;

  private static final System.Logger LOG = System.getLogger(FeedbackService.class.getName());

  /** Observes feedback that joined an impression for the first time. Must not block or throw. */
  @FunctionalInterface
  public interface JoinListener {
    void joined(Impression impression, int[] clicks);
  }

  private final FeedbackStore store;
  private final FeedbackMetrics metrics;
  private final List<JoinListener> listeners = new CopyOnWriteArrayList<>();

  public FeedbackService(int maxEntries, FeedbackMetrics metrics) {
    this.store = new FeedbackStore(maxEntries, System::currentTimeMillis);
    this.metrics = metrics == null ? FeedbackMetrics.NOOP : metrics;
  }

  public void addJoinListener(JoinListener listener) {
    listeners.add(listener);
  }

  public FeedbackStore store() {
    return store;
  }

  /**
   * Remembers a served response so click feedback can be joined to it; logs and counts id
   * collisions.
   */
  public void remember(Impression impression) {
    if (store.remember(impression)) {
      metrics.idCollision();
      LOG.log(
          System.Logger.Level.WARNING,
          "response id ''{0}'' ({1}) was already the id of another live "
              + "response: feedback for it will be refused as ambiguous (clients must send unique ids, "
              + "or none)",
          impression.id(),
          impression.experiment() != null ? impression.experiment() : impression.model());
    }
  }

  /** Joins click feedback; the outcome says which HTTP status to answer. */
  public FeedbackOutcome feedback(String id, int[] clicks) {
    FeedbackOutcome o = store.join(id, clicks);
    if (o instanceof FeedbackOutcome.Joined j) {
      for (JoinListener l : listeners) {
        l.joined(j.impression(), clicks);
      }
    }
    metrics.outcome(o.label());
    return o;
  }

  /** {@code parameters.user_id} of a request as a string (numbers accepted), or null. */
  public static String userId(Map<String, Object> parameters) {
    Object u = parameters.get("user_id");
    if (u == null) {
      return null;
    }
    String s = String.valueOf(u);
    return s.isEmpty() ? null : s;
  }
}
