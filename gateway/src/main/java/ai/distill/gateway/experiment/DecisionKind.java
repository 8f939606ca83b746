package ai.distill.gateway.experiment;

import java.util.Locale;

/**
 * What the decision engine or an operator says about a variant, and what the API shows for it. The
 * JSON form is the lower-case name ({@link #label}); {@link #parse} reads it back.
 */
public enum DecisionKind {
  /** The reference arm, which is never decided about. */
  TEACHER,
  /** A student at weight 0 that was not rolled back. */
  INACTIVE,
  /** Keep collecting. Enters the history only when a variant's decision changes to it. */
  HOLD,
  /** Replace the teacher by this student. */
  PROMOTE,
  /** Stop serving this student. */
  ROLLBACK,
  /**
   * Decisions are frozen by a sample-ratio mismatch: nothing is promoted or rolled back on CTR
   * until a person looks (manual promote, rollback and stop still work).
   */
  FROZEN,
  /** End the experiment: the teacher serves everything. */
  STOP,
  /** Shown for a student once it was promoted. */
  PROMOTED,
  /** Shown for a student once it was rolled back. */
  ROLLED_BACK,
  /** Shown for the teacher once a student was promoted. */
  REPLACED;

  /** The decisions an operator may take through the admin API. */
  public static final java.util.Set<DecisionKind> MANUAL =
      java.util.EnumSet.of(PROMOTE, ROLLBACK, STOP);

  /** The JSON form: {@code hold}, {@code promote}, {@code rolled_back}... */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The kind with this {@link #label}; throws {@link IllegalArgumentException} for any other
   * string.
   */
  public static DecisionKind parse(String label) {
    for (DecisionKind k : values()) {
      if (k.label().equals(label)) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        "decision: '"
            + label
            + "' (expected one of: "
            + java.util.Arrays.stream(values()).map(DecisionKind::label).toList()
            + ")");
  }
}
