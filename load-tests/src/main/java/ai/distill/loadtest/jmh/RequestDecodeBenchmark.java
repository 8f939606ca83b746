package ai.distill.loadtest.jmh;

import ai.distill.gateway.protocol.InferRequestDecoder;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.loadtest.oip.GeneratedRows;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The gateway's request decoding hot path: an OIP v2 body (JSON data lists, or the binary tensor
 * extension) for the CTR signature ({@code dense} FP32 [N,13], {@code sparse} INT64 [N,26]) decoded
 * into direct tensors by {@link InferRequestDecoder}, for N rows per request. Run: {@code java -cp
 * distill-loadtest.jar org.openjdk.jmh.Main RequestDecodeBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestDecodeBenchmark {
  static final List<TensorSpec> INPUTS =
      List.of(
          new TensorSpec("dense", Datatype.FP32, new long[] {-1, 13}),
          new TensorSpec("sparse", Datatype.INT64, new long[] {-1, 26}));
  static final List<TensorSpec> OUTPUTS =
      List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1}));

  @Param({"1", "64"})
  public int rows;

  @Param({"json", "binary"})
  public String encoding;

  private final InferRequestDecoder decoder = new InferRequestDecoder(true);
  private Buffer body;
  private Integer headerLength;

  @Setup
  public void setup() {
    ModelMetadata model = ctrSignature();
    List<InputRow> input = GeneratedRows.generate(model, rows, 42);
    RequestBodies bodies = RequestBodies.encode(model, input, rows, "binary".equals(encoding), 1);
    body = bodies.body(0);
    headerLength = bodies.headerLength(0) >= 0 ? bodies.headerLength(0) : null;
  }

  @Benchmark
  public InferRequest decode() {
    return decoder.decode(body, headerLength, INPUTS, OUTPUTS);
  }

  static ModelMetadata ctrSignature() {
    return new ModelMetadata(
        "ctr",
        List.of(),
        List.of(
            new TensorSpec("dense", Datatype.FP32, new long[] {-1, 13}),
            new TensorSpec("sparse", Datatype.INT64, new long[] {-1, 26})),
        List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1})));
  }
}
