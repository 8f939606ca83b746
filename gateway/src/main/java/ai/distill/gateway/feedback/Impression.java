package ai.distill.gateway.feedback;

/**
 * What the gateway remembers about a served response so click feedback can be joined to it.
 *
 * @param id the response id the client echoes in feedback
 * @param experiment the experiment that routed it, or null for a plain model request
 * @param variant the variant index within the experiment (-1 without experiment)
 * @param model the model that served it
 * @param userId the user, or null (anonymous)
 * @param rows the number of rows scored: feedback must carry exactly this many clicks
 * @param expiresAtMillis end of the attribution window
 */
public record Impression(
    String id,
    String experiment,
    int variant,
    String model,
    String userId,
    int rows,
    long expiresAtMillis) {}
