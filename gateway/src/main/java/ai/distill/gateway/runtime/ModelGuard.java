package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.DynamicBatcher.Timed;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelFaultException.Kind;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.NonFinite;
import ai.distill.gateway.tensor.Tensor;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Isolates each model's faults from the rest of the gateway, in the transport-agnostic core: before
 * a run it refuses non-finite float inputs (400, unless the model's {@link ModelPolicy} allows
 * them) and requests for a model whose circuit is open (503); after it, outputs that are NaN,
 * ±Infinity or (for probability outputs) outside [0, 1] become a 502 instead of scores, and a run
 * that outlives the model's timeout a 504. Model errors feed the model's {@link CircuitBreaker}.
 * Exports {@code distill_model_faults_total{model,kind}} and {@code
 * distill_model_circuit_state{model}} (0 closed, 1 half-open, 2 open). Thread-safe.
 */
public final class ModelGuard {

  private final Vertx vertx;
  private final Function<String, ModelPolicy> policies;
  private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();
  private final Counter faults;
  private final Gauge circuitState;

  public ModelGuard(
      Vertx vertx, PrometheusRegistry registry, Function<String, ModelPolicy> policies) {
    this.vertx = vertx;
    this.policies = policies;
    this.faults =
        Counter.builder()
            .name("distill_model_faults_total")
            .help(
                "Requests failed by the model itself (bad output, timeout, open circuit, run error)")
            .labelNames("model", "kind")
            .register(registry);
    this.circuitState =
        Gauge.builder()
            .name("distill_model_circuit_state")
            .help("The model's circuit breaker: 0 closed, 1 half-open (probing), 2 open")
            .labelNames("model")
            .register(registry);
  }

  /** The policy of {@code model}. */
  public ModelPolicy policy(String model) {
    ModelPolicy p = policies.apply(model);
    return p == null ? ModelPolicy.DEFAULT : p;
  }

  /**
   * Runs {@code request} on model {@code name} through {@code submit} under the model's policy.
   * Never throws; fails with {@link BadInputException}, {@link ModelFaultException} or whatever the
   * run failed with.
   */
  public Future<Timed<List<Tensor>>> run(
      String name, InferRequest request, Supplier<Future<Timed<List<Tensor>>>> submit) {
    ModelPolicy policy = policy(name);
    try {
      if (!policy.allowNonFinite()) {
        checkInputs(name, request);
      }
    } catch (BadInputException e) {
      return Future.failedFuture(e);
    }
    CircuitBreaker breaker = breaker(name, policy);
    long now = System.nanoTime();
    if (!breaker.tryAcquire(now)) {
      faults.labelValues(name, Kind.CIRCUIT_OPEN.label()).inc();
      long wait = breaker.remainingOpenNanos(now);
      long retry = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(wait + 999_999_999L));
      return Future.failedFuture(
          new ModelFaultException(
              Kind.CIRCUIT_OPEN,
              "model "
                  + name
                  + " is failing and its circuit is open: requests are refused for "
                  + retry
                  + " s, then one probe is let through",
              retry));
    }
    circuitState.labelValues(name).set(breaker.state().gauge);
    Future<Timed<List<Tensor>>> run;
    try {
      run = submit.get();
    } catch (RuntimeException e) {
      run = Future.failedFuture(e);
    }
    if (!policy.timeout().isZero()) {
      run = withTimeout(name, run, policy.timeout().toMillis());
    }
    return run.map(t -> checkOutputs(name, policy, t))
        .andThen(
            ar -> {
              Throwable f = ar.cause();
              if (f == null) {
                breaker.succeeded();
              } else if (isModelError(f)) {
                breaker.failed(System.nanoTime());
                faults.labelValues(name, kindLabel(f)).inc();
              } else {
                breaker.neutral();
              }
              circuitState.labelValues(name).set(breaker.state().gauge);
            });
  }

  private CircuitBreaker breaker(String name, ModelPolicy policy) {
    return breakers.computeIfAbsent(
        name, n -> new CircuitBreaker(policy.breakerFailures(), policy.breakerOpen().toNanos()));
  }

  /** The circuit state of {@code model} (closed when it never ran). */
  public String circuitState(String model) {
    CircuitBreaker b = breakers.get(model);
    return (b == null ? CircuitBreaker.State.CLOSED : b.state())
        .name()
        .toLowerCase(java.util.Locale.ROOT);
  }

  private Future<Timed<List<Tensor>>> withTimeout(
      String name, Future<Timed<List<Tensor>>> run, long millis) {
    Promise<Timed<List<Tensor>>> promise = Promise.promise();
    long timer =
        vertx.setTimer(
            millis,
            id ->
                promise.tryFail(
                    new ModelFaultException(
                        Kind.TIMEOUT,
                        "model "
                            + name
                            + " did not answer within its timeout of "
                            + millis
                            + " ms (models."
                            + name
                            + ".timeout_ms)",
                        1)));
    run.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            promise.tryComplete(ar.result());
          } else {
            promise.tryFail(ar.cause());
          }
        });
    return promise.future();
  }

  static void checkInputs(String model, InferRequest request) {
    for (Tensor t : request.inputs()) {
      long i = NonFinite.firstIndex(t);
      if (i >= 0) {
        throw new BadInputException(
            "input '"
                + t.name()
                + "': value "
                + NonFinite.describe(t, i)
                + " at index "
                + i
                + " is not finite ("
                + t.datatype()
                + "); model "
                + model
                + " refuses NaN and Infinity (allow them with models."
                + model
                + ".allow_non_finite)");
      }
    }
  }

  static Timed<List<Tensor>> checkOutputs(String model, ModelPolicy policy, Timed<List<Tensor>> t) {
    for (Tensor out : t.value()) {
      if (out == null) {
        continue;
      }
      boolean probability = policy.probabilityOutputs().contains(out.name());
      long i = probability ? NonFinite.firstOutside(out, 0, 1) : NonFinite.firstIndex(out);
      if (i >= 0) {
        throw new ModelFaultException(
            Kind.BAD_OUTPUT,
            "model "
                + model
                + " produced "
                + (probability ? "an invalid probability " : "a non-finite value ")
                + NonFinite.describe(out, i)
                + " in output '"
                + out.name()
                + "' at index "
                + i
                + (probability ? " (expected: within [0, 1])" : ""),
            1);
      }
    }
    return t;
  }

  static boolean isModelError(Throwable f) {
    if (f instanceof ModelFaultException e) {
      return e.kind() != Kind.CIRCUIT_OPEN;
    }
    if (f instanceof ModelRunException e) {
      return !e.invalidInput();
    }
    return f instanceof IllegalStateException;
  }

  private static String kindLabel(Throwable f) {
    return f instanceof ModelFaultException e ? e.kind().label() : "run_error";
  }
}
