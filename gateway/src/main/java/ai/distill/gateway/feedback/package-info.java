/**
 * Click feedback: {@link ai.distill.gateway.feedback.FeedbackStore} remembers each served impression (response
 * id → experiment, variant, user, rows) for its attribution window in bounded memory, and joins
 * {@code POST /v1/feedback {"id", "clicks"}} to it: joined or duplicate (idempotent) → 200, unknown → 404,
 * past the window → 410, wrong number of clicks → 400; outcomes are counted in {@code distill_feedback_total}.
 */
package ai.distill.gateway.feedback;
