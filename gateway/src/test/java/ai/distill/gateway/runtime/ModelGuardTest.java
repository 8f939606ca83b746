package ai.distill.gateway.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.batching.DynamicBatcher.Timed;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelFaultException.Kind;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.onnxruntime.OrtException;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelGuardTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private ModelGuard guard(ModelPolicy policy) {
    return new ModelGuard(vertx, new PrometheusRegistry(), m -> policy);
  }

  private static InferRequest request(float... values) {
    return new InferRequest(
        "r",
        List.of(Tensor.ofFloats("x", new long[] {1, values.length}, values)),
        List.of(),
        false,
        Map.of());
  }

  private static Future<Timed<List<Tensor>>> answer(float... values) {
    return Future.succeededFuture(
        new Timed<>(List.of(Tensor.ofFloats("y", new long[] {values.length, 1}, values)), 0, 0));
  }

  private static Throwable failure(Future<?> f) {
    try {
      f.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the cause is read below
    }
    assertTrue(f.failed(), "expected a failure, got " + f.result());
    return f.cause();
  }

  @Test
  void non_finite_inputs_are_refused_naming_input_and_index_before_the_model_runs() {
    AtomicInteger runs = new AtomicInteger();
    ModelGuard g = guard(ModelPolicy.DEFAULT);
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      Throwable t =
          failure(
              g.run(
                  "m",
                  request(1f, 2f, bad),
                  () -> {
                    runs.incrementAndGet();
                    return answer(0.5f);
                  }));
      BadInputException e = assertInstanceOf(BadInputException.class, t);
      assertTrue(e.getMessage().startsWith("input 'x': value "), e.getMessage());
      assertTrue(e.getMessage().contains(" at index 2 is not finite (FP32)"), e.getMessage());
      assertTrue(e.getMessage().contains("models.m.allow_non_finite"), e.getMessage());
    }
    assertEquals(0, runs.get());
  }

  @Test
  void fp64_and_fp16_inputs_are_checked_too() {
    ModelGuard g = guard(ModelPolicy.DEFAULT);
    ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
    d.putDouble(0, 1.0).putDouble(8, Double.NaN);
    ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
    h.putShort(0, (short) 0x3c00).putShort(2, (short) 0x7c00); // 1.0, +Infinity
    InferRequest r =
        new InferRequest(
            null,
            List.of(
                Tensor.of("h", Datatype.FP16, new long[] {1, 2}, h),
                Tensor.of("d", Datatype.FP64, new long[] {1, 2}, d)),
            List.of(),
            false,
            Map.of());
    Throwable t = failure(g.run("m", r, () -> answer(0.5f)));
    assertEquals(
        "input 'h': value Infinity at index 1 is not finite (FP16); model m refuses NaN and"
            + " Infinity (allow them with models.m.allow_non_finite)",
        t.getMessage());
  }

  @Test
  void allow_non_finite_lets_them_through() {
    ModelGuard g = guard(ModelPolicy.DEFAULT.withAllowNonFinite(true));
    Future<Timed<List<Tensor>>> f = g.run("m", request(Float.NaN), () -> answer(0.5f));
    assertEquals(0.5f, f.await().value().get(0).getDouble(0), 0);
  }

  @Test
  void nan_and_out_of_range_probabilities_are_model_faults_not_scores() {
    ModelGuard g = guard(ModelPolicy.DEFAULT.withProbabilityOutputs(Set.of("y")));
    ModelFaultException nan =
        assertInstanceOf(
            ModelFaultException.class,
            failure(g.run("m", request(1f), () -> answer(0.1f, Float.NaN))));
    assertEquals(Kind.BAD_OUTPUT, nan.kind());
    assertEquals(502, nan.status());
    assertEquals(
        "model m produced an invalid probability NaN in output 'y' at index 1 (expected: within [0,"
            + " 1])",
        nan.getMessage());
    Throwable high = failure(g.run("m", request(1f), () -> answer(1.5f)));
    assertTrue(high.getMessage().contains("invalid probability 1.5"), high.getMessage());
    assertEquals(
        1.0, g.run("m", request(1f), () -> answer(1f)).await().value().get(0).getDouble(0));
  }

  @Test
  void non_finite_outputs_are_refused_even_when_not_probabilities() {
    ModelGuard g = guard(ModelPolicy.DEFAULT);
    assertEquals(
        7.0, g.run("m", request(1f), () -> answer(7f)).await().value().get(0).getDouble(0));
    Throwable t = failure(g.run("m", request(1f), () -> answer(Float.NEGATIVE_INFINITY)));
    assertEquals(
        "model m produced a non-finite value -Infinity in output 'y' at index 0", t.getMessage());
  }

  @Test
  void a_model_that_never_answers_times_out() {
    ModelGuard g = guard(ModelPolicy.DEFAULT.withTimeout(Duration.ofMillis(50)));
    Promise<Timed<List<Tensor>>> never = Promise.promise();
    ModelFaultException e =
        assertInstanceOf(
            ModelFaultException.class, failure(g.run("m", request(1f), never::future)));
    assertEquals(Kind.TIMEOUT, e.kind());
    assertEquals(504, e.status());
    assertEquals(
        "model m did not answer within its timeout of 50 ms (models.m.timeout_ms)", e.getMessage());
  }

  @Test
  void repeated_run_errors_open_the_circuit_and_client_errors_do_not() throws Exception {
    ModelGuard g = guard(ModelPolicy.DEFAULT.withBreaker(3, Duration.ofMinutes(1)));
    AtomicInteger runs = new AtomicInteger();
    ModelRunException invalid =
        new ModelRunException(
            "m", new OrtException(OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT, "bad id"));
    for (int i = 0; i < 10; i++) {
      failure(
          g.run(
              "m",
              request(1f),
              () -> {
                runs.incrementAndGet();
                return Future.failedFuture(invalid);
              }));
    }
    assertEquals("closed", g.circuitState("m"), "client errors never open the circuit");
    ModelRunException broken =
        new ModelRunException("m", new OrtException(OrtException.OrtErrorCode.ORT_FAIL, "boom"));
    for (int i = 0; i < 3; i++) {
      failure(
          g.run(
              "m",
              request(1f),
              () -> {
                runs.incrementAndGet();
                return Future.failedFuture(broken);
              }));
    }
    assertEquals("open", g.circuitState("m"));
    int before = runs.get();
    ModelFaultException open =
        assertInstanceOf(
            ModelFaultException.class,
            failure(
                g.run(
                    "m",
                    request(1f),
                    () -> {
                      runs.incrementAndGet();
                      return answer(0.5f);
                    })));
    assertEquals(Kind.CIRCUIT_OPEN, open.kind());
    assertEquals(503, open.status());
    assertEquals(60, open.retryAfterSeconds());
    assertEquals(before, runs.get(), "an open circuit does not run the model");
    assertEquals("closed", g.circuitState("other"), "other models are unaffected");
    assertEquals(
        0.5, g.run("other", request(1f), () -> answer(0.5f)).await().value().get(0).getDouble(0));
  }

  @Test
  void an_open_circuit_probes_after_its_delay_and_closes_on_success() throws Exception {
    ModelGuard g = guard(ModelPolicy.DEFAULT.withBreaker(1, Duration.ofMillis(100)));
    failure(g.run("m", request(1f), () -> Future.failedFuture(new IllegalStateException("x"))));
    assertEquals("open", g.circuitState("m"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Future<Timed<List<Tensor>>> probe;
    do {
      Thread.sleep(20);
      probe = g.run("m", request(1f), () -> answer(0.25f));
      try {
        probe.await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // still open: try again
      }
    } while (probe.failed() && System.nanoTime() < deadline);
    assertEquals(0.25, probe.result().value().get(0).getDouble(0));
    assertEquals("closed", g.circuitState("m"));
  }
}
