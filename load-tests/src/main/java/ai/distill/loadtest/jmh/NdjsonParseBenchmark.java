package ai.distill.loadtest.jmh;

import ai.distill.loadtest.oip.GeneratedRows;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.transport.TransportPayloads;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under the NDJSON stream's cost per row: Jackson's streaming parser (configured like the
 * gateway's stream parser, fast double parsing on) going over the same 64 CTR rows the {@code
 * transports} command streams ({@code dense} 13 FP32, {@code sparse} 26 INT64 per row), once only
 * tokenizing, once also converting every number as the gateway does. Per row (operations = rows),
 * to set beside the in-process model time per row: the stream can be no faster than model +
 * tokenizing. Run: {@code java -cp distill-loadtest.jar org.openjdk.jmh.Main NdjsonParseBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NdjsonParseBenchmark {
  private static final int ROWS = 64;

  private final JsonFactory json =
      JsonFactory.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();
  private byte[] lines;

  @Setup
  public void setup() {
    ModelMetadata model = RequestDecodeBenchmark.ctrSignature();
    List<InputRow> rows = GeneratedRows.generate(model, ROWS, 42);
    lines = TransportPayloads.encode(model, rows, ROWS, 1).ndjson(0).getBytes();
  }

  /** Tokens only: what any JSON reading of the rows costs before a single number is converted. */
  @Benchmark
  @OperationsPerInvocation(ROWS)
  public int tokens() throws IOException {
    int n = 0;
    try (JsonParser p = json.createParser(lines)) {
      while (p.nextToken() != null) {
        n++;
      }
    }
    return n;
  }

  /** Tokens and numbers: floats as FP32, integers as INT64, like the gateway's row parser. */
  @Benchmark
  @OperationsPerInvocation(ROWS)
  public double tokensAndNumbers() throws IOException {
    double sum = 0;
    try (JsonParser p = json.createParser(lines)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
          sum += p.getFloatValue();
        } else if (t == JsonToken.VALUE_NUMBER_INT) {
          sum += p.getLongValue();
        }
      }
    }
    return sum;
  }
}
