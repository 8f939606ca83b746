package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Micro-benchmark (not a test): decode rows/s of a 256-row CTR request (dense FP32 [256, 13],
 * sparse INT64 [256, 26]) as JSON, as binary tensor data and mixed, plus response encoding, side by
 * side in one run.
 *
 * <pre>
 * mvn -B -o -q -pl gateway -am test-compile
 * R=~/.m2/repository
 * CP=$R/io/vertx/vertx-core/5.0.7/vertx-core-5.0.7.jar:$R/com/fasterxml/jackson/core/jackson-core/2.18.2/jackson-core-2.18.2.jar
 * CP=$CP:$R/io/netty/netty-buffer/4.2.9.Final/netty-buffer-4.2.9.Final.jar:$R/io/netty/netty-common/4.2.9.Final/netty-common-4.2.9.Final.jar
 * java -cp gateway/target/test-classes:gateway/target/classes:$CP ai.distill.gateway.protocol.DecodeBench [seconds per measurement]
 * </pre>
 */
public final class DecodeBench {

  private static final int ROWS = 256;
  private static final List<TensorSpec> INPUTS =
      List.of(
          new TensorSpec("dense", Datatype.FP32, new long[] {-1, 13}),
          new TensorSpec("sparse", Datatype.INT64, new long[] {-1, 26}));
  private static final List<TensorSpec> OUTPUTS =
      List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1}));

  private static volatile Object sink;

  public static void main(String[] args) {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
    Random rnd = new Random(42);
    float[] dense = new float[ROWS * 13];
    for (int i = 0; i < dense.length; i++) dense[i] = (float) (rnd.nextGaussian() * 3);
    long[] sparse = new long[ROWS * 26];
    for (int i = 0; i < sparse.length; i++) sparse[i] = rnd.nextInt(1_000_000);
    InferRequest request =
        new InferRequest(
            "bench",
            List.of(
                Tensor.ofFloats("dense", new long[] {ROWS, 13}, dense),
                Tensor.ofLongs("sparse", new long[] {ROWS, 26}, sparse)),
            List.of(),
            false,
            Map.of("user_id", "u42"));
    InferRequestEncoder enc = new InferRequestEncoder();
    InferResponseEncoder.Encoded json = enc.encode(request, false);
    InferResponseEncoder.Encoded binary = enc.encode(request, true);
    InferResponseEncoder.Encoded mixed = enc.encode(request, Set.of("dense"));
    InferRequestDecoder decoder = new InferRequestDecoder();
    Tensor prob =
        Tensor.ofFloats("prob", new long[] {ROWS, 1}, java.util.Arrays.copyOf(dense, ROWS));
    InferResponseEncoder responseEncoder = new InferResponseEncoder();

    System.out.printf(
        "request bytes: json %d, binary %d, mixed (dense binary) %d%n",
        json.body().length(), binary.body().length(), mixed.body().length());
    for (int round = 0; round < 2; round++) {
      String label = round == 0 ? "warm-up" : "measured";
      byte[] jsonBytes = json.body().getBytes();
      double tok = rate(() -> tokenize(jsonBytes), seconds);
      double j = rate(() -> decoder.decode(json.body(), null, INPUTS, OUTPUTS), seconds);
      double b =
          rate(
              () ->
                  decoder.decode(
                      binary.body(), binary.inferenceHeaderContentLength(), INPUTS, OUTPUTS),
              seconds);
      double m =
          rate(
              () ->
                  decoder.decode(
                      mixed.body(), mixed.inferenceHeaderContentLength(), INPUTS, OUTPUTS),
              seconds);
      double ej =
          rate(
              () ->
                  responseEncoder.encode(
                      "ctr", "1", "bench", List.of(prob), List.of(), false, null),
              seconds);
      double eb =
          rate(
              () ->
                  responseEncoder.encode("ctr", "1", "bench", List.of(prob), List.of(), true, null),
              seconds);
      System.out.printf(
          "%-8s jackson nextToken() over the JSON body alone: %,.0f rows/s%n", label, tok * ROWS);
      System.out.printf(
          "%-8s decode rows/s: json %,.0f  binary %,.0f  mixed %,.0f  (binary/json %.1fx)  |  encode rows/s: json %,.0f  binary %,.0f%n",
          label, j * ROWS, b * ROWS, m * ROWS, b / j, ej * ROWS, eb * ROWS);
    }
  }

  /** The floor for JSON: Jackson tokenizing the body without converting a number. */
  private static Object tokenize(byte[] body) {
    try (com.fasterxml.jackson.core.JsonParser p = Json.FACTORY.createParser(body)) {
      int n = 0;
      while (p.nextToken() != null) n++;
      return n;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Calls per second of {@code op} over about {@code seconds}. */
  private static double rate(java.util.function.Supplier<Object> op, double seconds) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    long n = 0;
    long now;
    do {
      for (int i = 0; i < 16; i++) sink = op.get();
      n += 16;
      now = System.nanoTime();
    } while (now < deadline);
    return n / ((now - start) / 1e9);
  }
}
