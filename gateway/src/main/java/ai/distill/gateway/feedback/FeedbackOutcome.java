package ai.distill.gateway.feedback;

/** The result of joining feedback to a remembered impression; each maps to one HTTP status. */
public sealed interface FeedbackOutcome {

  /** Metric label of the outcome. */
  String label();

  /** First feedback for the impression: counts were updated. */
  record Joined(Impression impression, int[] clicks) implements FeedbackOutcome {
    public String label() {
      return "joined";
    }
  }

  /** The same impression already received feedback; nothing changed (idempotent). */
  record Duplicate(Impression impression) implements FeedbackOutcome {
    public String label() {
      return "duplicate";
    }
  }

  /** No impression with this id is remembered (never served, or forgotten long ago). */
  record Unknown(String id) implements FeedbackOutcome {
    public String label() {
      return "unknown";
    }
  }

  /** The attribution window of the impression has closed. */
  record Expired(Impression impression, long lateByMillis) implements FeedbackOutcome {
    public String label() {
      return "expired";
    }
  }

  /** Feedback did not carry one click per scored row. */
  record WrongCount(Impression impression, int received) implements FeedbackOutcome {
    public String label() {
      return "invalid";
    }
  }

  /**
   * The id was returned by {@code servings} different live responses (clients reused a request id),
   * so the clicks cannot be attributed; nothing changed.
   */
  record Ambiguous(Impression impression, int servings) implements FeedbackOutcome {
    public String label() {
      return "ambiguous";
    }
  }
}
