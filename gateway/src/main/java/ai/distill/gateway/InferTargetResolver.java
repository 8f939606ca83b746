package ai.distill.gateway;

import ai.distill.gateway.tensor.InferRequest;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * Routes {@code POST /v2/models/{name}/infer} when {@code name} is not a loaded model, for example
 * to an experiment's variants. Register with {@link Gateway#addTargetResolver}; the gateway asks
 * resolvers in registration order and uses the first route returned.
 *
 * <pre>{@code
 * gateway.addTargetResolver((name, ctx) -> experiments.find(name).map(e -> new Route() {
 *   public String signatureModel() { return e.teacher(); }
 *   public Future<Target> select(InferRequest r) {
 *     return Future.succeededFuture(e.assign(r.parameters().get("user_id")));
 *   }
 *   public void completed(InferRequest r, Target t, InferResult result, Throwable failure) {
 *     e.record(t, result, failure);
 *   }
 * }));
 * }</pre>
 *
 * <p>Every method is called on the request's event-loop thread and must not block.
 */
@FunctionalInterface
public interface InferTargetResolver {

  /** The route for {@code name}, or empty when this resolver does not know it. */
  Optional<Route> resolve(String name, RoutingContext context);

  /**
   * Observes a request served directly by a model (not through a route), e.g. to capture traffic.
   * Called just before the response is written, on the event loop; must not block or throw.
   */
  default void servedModel(InferRequest request, InferResult result) {}

  /** How one request to a resolved name is served. */
  interface Route {

    /**
     * The model whose signature (inputs and outputs, default version) decodes the request body.
     * Every model {@link #select} may pick must accept the same inputs.
     */
    String signatureModel();

    /**
     * Picks the model version that serves {@code request} (decoded, validated). A failed future
     * fails the request with the usual status mapping (e.g. {@code UnknownModelException} → 404).
     */
    Future<Target> select(InferRequest request);

    /**
     * The response's id when the client sent none ({@code version} served it), or null for a random
     * one; called on success just before {@link #completed}. Must not block or throw.
     */
    default String responseId(InferRequest request, Target target, long version) {
      return null;
    }

    /**
     * Observes the outcome: {@code result} on success (then {@code failure} is null), otherwise
     * {@code failure}. On success it is called just before the response is written, so that what it
     * records is visible to follow-up requests (click feedback); must not block or throw.
     */
    default void completed(
        InferRequest request, Target target, InferResult result, Throwable failure) {}
  }

  /**
   * A model to serve a request: {@code version} null means the model's default version; {@code
   * variant}, when not null, is returned as {@code parameters.variant}.
   */
  record Target(String model, Long version, String variant) {}
}
