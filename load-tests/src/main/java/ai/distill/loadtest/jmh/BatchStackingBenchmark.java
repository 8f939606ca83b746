package ai.distill.loadtest.jmh;

import ai.distill.gateway.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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
 * The batcher's stacking and splitting: {@code requests} requests of {@code rowsPerRequest} rows
 * stacked into one direct tensor ({@link Tensor#concatRows}, as for {@code sparse} INT64 [N,26]),
 * and a [N,1] FP32 output split back per request ({@link Tensor#sliceRows}). Run: {@code java -cp
 * distill-loadtest.jar org.openjdk.jmh.Main BatchStackingBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BatchStackingBenchmark {
  @Param({"16"})
  public int requests;

  @Param({"1", "64"})
  public int rowsPerRequest;

  private List<Tensor> parts;
  private Tensor output;

  @Setup
  public void setup() {
    Random random = new Random(42);
    parts = new ArrayList<>();
    for (int r = 0; r < requests; r++) {
      long[] values = new long[rowsPerRequest * 26];
      for (int i = 0; i < values.length; i++) {
        values[i] = random.nextInt(1000);
      }
      parts.add(Tensor.ofLongs("sparse", new long[] {rowsPerRequest, 26}, values));
    }
    float[] probs = new float[requests * rowsPerRequest];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = random.nextFloat();
    }
    output = Tensor.ofFloats("prob", new long[] {probs.length, 1}, probs);
  }

  @Benchmark
  public Tensor stack() {
    return Tensor.concatRows("sparse", parts, true);
  }

  @Benchmark
  public List<Tensor> split() {
    List<Tensor> out = new ArrayList<>(requests);
    for (int r = 0; r < requests; r++) {
      out.add(output.sliceRows((long) r * rowsPerRequest, (long) (r + 1) * rowsPerRequest));
    }
    return out;
  }
}
