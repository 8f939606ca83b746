package ai.distill.gateway.feedback;

/**
 * What a gateway-made response id says about its response, readable by any instance that holds the
 * same key ({@link ResponseIdSigner}): enough to attribute click feedback without a lookup.
 *
 * @param experiment the experiment that routed the response
 * @param variant the variant index within the experiment
 * @param model the model that served it
 * @param version the model version that served it
 * @param userId the user, or null (anonymous)
 * @param rows the number of rows scored
 * @param servedAtMillis when it was served
 * @param expiresAtMillis end of its attribution window
 * @param nonce random, so that two identical responses in the same millisecond differ
 */
public record SignedResponseId(
    String experiment,
    int variant,
    String model,
    long version,
    String userId,
    int rows,
    long servedAtMillis,
    long expiresAtMillis,
    long nonce) {

  /** The impression this id stands for, under the id {@code id} (the signed text). */
  public Impression impression(String id) {
    return new Impression(id, experiment, variant, model, userId, rows, expiresAtMillis);
  }
}
