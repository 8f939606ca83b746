package ai.distill.loadtest.jmh;

import ai.distill.gateway.experiment.StickyAssigner;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sticky experiment assignment on the request path: murmur3 of {@code <experiment>:<salt>:<user>}
 * to a bucket, then the bucket's variant ({@link StickyAssigner}). Run: {@code java -cp
 * distill-loadtest.jar org.openjdk.jmh.Main AssignmentHashingBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AssignmentHashingBenchmark {
  private StickyAssigner assigner;
  private String[] users;
  private int next;

  @Setup
  public void setup() {
    assigner = StickyAssigner.create("ctr-ab", "salt-1", new double[] {50, 25, 25});
    users = new String[1024];
    for (int i = 0; i < users.length; i++) {
      users[i] = "user-" + (i * 7919L);
    }
  }

  @Benchmark
  public int assign() {
    String user = users[next++ & (users.length - 1)];
    return assigner.variantOf(assigner.bucket(user));
  }
}
