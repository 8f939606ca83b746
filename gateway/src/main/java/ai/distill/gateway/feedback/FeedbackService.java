package ai.distill.gateway.feedback;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Click feedback for served responses: whoever served a response {@link #remember}s its impression
 * (an experiment for every response it routes, capture for every plain model response it samples),
 * and {@link #feedback} joins clicks to it and tells the {@link JoinListener}s (the experiment's
 * counts, the captured rows' labels). Ids made by {@link #responseId} are signed ({@link
 * ResponseIdSigner}) and describe their response, so their feedback joins on any instance with the
 * same key; a forged or altered one is refused ({@link InvalidResponseIdException}, HTTP 400).
 * Vert.x-agnostic and thread-safe; nothing here blocks.
 *
 * <pre>{@code
 * FeedbackService feedback = new FeedbackService(FeedbackService.DEFAULT_MAX_ENTRIES, FeedbackMetrics.NOOP);
 * feedback.addJoinListener((impression, clicks) -> ...);
 * feedback.remember(new Impression("r1", null, -1, "ctr", "u42", 3, deadline));
 * String id = feedback.responseId("ctr-ab", 1, "ctr-int8", 3, "u42", 3, now, deadline); // signed
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
  private final ResponseIdSigner signer;

  /** A service whose response ids are signed with a random key (valid for this instance only). */
  public FeedbackService(int maxEntries, FeedbackMetrics metrics) {
    this(maxEntries, metrics, ResponseIdSigner.random());
  }

  /**
   * @param signer signs the response ids this service makes ({@link #responseId}) and checks signed
   *     ids in feedback; instances sharing its key accept each other's ids
   */
  public FeedbackService(int maxEntries, FeedbackMetrics metrics, ResponseIdSigner signer) {
    this.store = new FeedbackStore(maxEntries, System::currentTimeMillis);
    this.metrics = metrics == null ? FeedbackMetrics.NOOP : metrics;
    this.signer = java.util.Objects.requireNonNull(signer, "signer");
  }

  /**
   * A self-describing, signed id for a response served now: feedback for it can be attributed by
   * any instance holding the same key, even one that never saw the response.
   */
  public String responseId(
      String experiment,
      int variant,
      String model,
      long version,
      String userId,
      int rows,
      long servedAtMillis,
      long expiresAtMillis) {
    return signer.sign(
        new SignedResponseId(
            experiment,
            variant,
            model,
            version,
            userId,
            rows,
            servedAtMillis,
            expiresAtMillis,
            ResponseIdSigner.nonce()));
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
    SignedResponseId signed = null;
    if (ResponseIdSigner.looksSigned(id)) {
      try {
        signed = signer.verify(id);
      } catch (InvalidResponseIdException e) {
        metrics.outcome("forged");
        throw e;
      }
    }
    FeedbackOutcome o = store.join(id, clicks);
    if (o instanceof FeedbackOutcome.Unknown && signed != null) {
      // served by another instance (or before a restart): the id itself says what it was. The
      // local store then remembers it, so a second feedback here is a duplicate (duplicates sent
      // to different instances are told apart by whoever folds the click events).
      store.remember(signed.impression(id));
      o = store.join(id, clicks);
    }
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
