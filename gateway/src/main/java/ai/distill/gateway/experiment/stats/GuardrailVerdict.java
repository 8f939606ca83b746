package ai.distill.gateway.experiment.stats;

/**
 * What a guardrail recommends for one student: {@code PENDING} until it has enough data to judge,
 * {@code PASS} when it found no harm, {@code HOLD} (no promotion, keep serving) on a breach that is
 * not yet confirmed, {@code ROLLBACK} on a confirmed breach.
 */
public enum GuardrailVerdict {
  PENDING,
  PASS,
  HOLD,
  ROLLBACK
}
