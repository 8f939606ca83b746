package ai.distill.gateway.runtime;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * How the gateway guards one model: whether its float inputs may hold NaN or ±Infinity, which of
 * its outputs are probabilities (answered only when within [0, 1]), how long a request may wait for
 * it, and when its circuit breaker opens. Immutable.
 *
 * <pre>{@code
 * "models": {"ctr": {"allow_non_finite": false, "probability_outputs": ["prob"],
 *                    "timeout_ms": 10000, "breaker_failures": 5, "breaker_open_ms": 5000}}
 * }</pre>
 *
 * @param allowNonFinite accept NaN and ±Infinity in FP16/FP32/FP64 inputs (default false: 400)
 * @param probabilityOutputs output names whose values must lie in [0, 1] (default none); NaN and
 *     ±Infinity are refused in every float output whatever this says
 * @param timeout how long a request may wait for the model, queue included (zero: no limit)
 * @param breakerFailures consecutive model errors (run failures, timeouts, bad outputs) that open
 *     the model's circuit (0: never)
 * @param breakerOpen how long an open circuit refuses requests before one probe is let through
 */
public record ModelPolicy(
    boolean allowNonFinite,
    Set<String> probabilityOutputs,
    Duration timeout,
    int breakerFailures,
    Duration breakerOpen) {

  /** No non-finite inputs, no probability outputs, 10 s timeout, open after 5 errors for 5 s. */
  public static final ModelPolicy DEFAULT =
      new ModelPolicy(false, Set.of(), Duration.ofSeconds(10), 5, Duration.ofSeconds(5));

  /** The keys of a model's config object: {@link #fromJson}'s and {@code batching}. */
  public static final Set<String> KEYS =
      Set.of(
          "batching",
          "allow_non_finite",
          "probability_outputs",
          "timeout_ms",
          "breaker_failures",
          "breaker_open_ms");

  public ModelPolicy {
    probabilityOutputs = Set.copyOf(probabilityOutputs);
    if (timeout.isNegative()) {
      throw new IllegalArgumentException(
          "timeout_ms : " + timeout.toMillis() + " (expected: >= 0)");
    }
    if (breakerFailures < 0) {
      throw new IllegalArgumentException(
          "breaker_failures : " + breakerFailures + " (expected: >= 0)");
    }
    if (breakerOpen.isNegative() || breakerOpen.isZero()) {
      throw new IllegalArgumentException(
          "breaker_open_ms : " + breakerOpen.toMillis() + " (expected: > 0)");
    }
  }

  /** The policy a model's config object describes; absent keys take {@link #DEFAULT}'s values. */
  public static ModelPolicy fromJson(JsonObject m) {
    Set<String> probs = new LinkedHashSet<>();
    JsonArray names = m.getJsonArray("probability_outputs", new JsonArray());
    for (int i = 0; i < names.size(); i++) {
      probs.add(names.getString(i));
    }
    return new ModelPolicy(
        m.getBoolean("allow_non_finite", DEFAULT.allowNonFinite),
        probs,
        Duration.ofMillis(m.getLong("timeout_ms", DEFAULT.timeout.toMillis())),
        m.getInteger("breaker_failures", DEFAULT.breakerFailures),
        Duration.ofMillis(m.getLong("breaker_open_ms", DEFAULT.breakerOpen.toMillis())));
  }

  public ModelPolicy withAllowNonFinite(boolean allow) {
    return new ModelPolicy(allow, probabilityOutputs, timeout, breakerFailures, breakerOpen);
  }

  public ModelPolicy withProbabilityOutputs(Set<String> names) {
    return new ModelPolicy(allowNonFinite, names, timeout, breakerFailures, breakerOpen);
  }

  public ModelPolicy withTimeout(Duration t) {
    return new ModelPolicy(allowNonFinite, probabilityOutputs, t, breakerFailures, breakerOpen);
  }

  public ModelPolicy withBreaker(int failures, Duration open) {
    return new ModelPolicy(allowNonFinite, probabilityOutputs, timeout, failures, open);
  }
}
