/**
 * Click feedback, an observer of served requests: {@link
 * ai.distill.gateway.feedback.FeedbackService} remembers each served impression (response id →
 * experiment, variant, user, rows) in a {@link ai.distill.gateway.feedback.FeedbackStore} for its
 * attribution window in bounded memory, joins {@code POST /v1/feedback {"id", "clicks"}} ({@link
 * ai.distill.gateway.feedback.FeedbackRoutes}) to it and tells its join listeners (the experiment's
 * counts, the captured rows' labels). Joined or duplicate (idempotent) → 200, unknown → 404, past
 * the window → 410, ambiguous id → 409, wrong number of clicks → 400 (typed exceptions the router's
 * {@code FailureHandler} maps); outcomes are counted in {@code distill_feedback_total}.
 */
package ai.distill.gateway.feedback;
