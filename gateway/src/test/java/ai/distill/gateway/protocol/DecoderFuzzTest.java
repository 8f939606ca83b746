package ai.distill.gateway.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Truncated, corrupted and spliced versions of valid bodies never fail with anything but
 * BadInputException.
 */
class DecoderFuzzTest {

  static final List<TensorSpec> INPUTS =
      List.of(
          new TensorSpec("dense", Datatype.FP32, new long[] {-1, 3}),
          new TensorSpec("ids", Datatype.INT64, new long[] {-1, 2}),
          new TensorSpec("flag", Datatype.BOOL, new long[] {-1}),
          new TensorSpec("small", Datatype.UINT8, new long[] {-1, 1}));
  static final List<TensorSpec> OUTPUTS =
      List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1}));

  private static final byte[] JSONISH =
      "{}[],:\"0123456789-.eE tfnNaI\\\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  private record Body(byte[] bytes, Integer headerLength) {}

  private static List<Body> validBodies() {
    InferRequest r =
        new InferRequest(
            "x1",
            List.of(
                Tensor.ofFloats("dense", new long[] {2, 3}, 1, -2.5f, 3e10f, 0, Float.NaN, 6),
                Tensor.ofLongs("ids", new long[] {2, 2}, 1, Long.MAX_VALUE, -3, 4),
                Tensor.ofBooleans("flag", new long[] {2}, true, false),
                Tensor.ofBytes("small", Datatype.UINT8, new long[] {2, 1}, (byte) 0, (byte) 255)),
            List.of(new RequestedOutput("prob", true)),
            false,
            Map.of("user_id", "u42", "n", List.of(1, 2)));
    InferRequestEncoder enc = new InferRequestEncoder();
    List<Body> bodies = new ArrayList<>();
    for (Set<String> binary :
        List.of(
            Set.<String>of(), Set.of("dense", "ids", "flag", "small"), Set.of("ids", "small"))) {
      InferResponseEncoder.Encoded e = enc.encode(r, binary);
      bodies.add(new Body(e.body().getBytes(), e.inferenceHeaderContentLength()));
    }
    String dataFirst =
        "{\"inputs\": [{\"data\": [[1, 2, 3], [4, 5, 6]], \"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [2, 3]},"
            + "{\"data\": [1, 2, 3, 4], \"name\": \"ids\", \"datatype\": \"INT64\", \"shape\": [2, 2]},"
            + "{\"name\": \"flag\", \"data\": [0, 1], \"datatype\": \"BOOL\", \"shape\": [2]},"
            + "{\"name\": \"small\", \"datatype\": \"UINT8\", \"shape\": [2, 1], \"data\": [[7], [8]]}], \"outputs\": [{\"name\": \"prob\"}]}";
    bodies.add(new Body(dataFirst.getBytes(java.nio.charset.StandardCharsets.UTF_8), null));
    return bodies;
  }

  @Test
  void valid_bodies_decode() {
    for (Body b : validBodies()) {
      InferRequest r =
          new InferRequestDecoder()
              .decode(Buffer.buffer(b.bytes()), b.headerLength(), INPUTS, OUTPUTS);
      assertEquals(4, r.inputs().size());
      assertEquals(2, r.rows());
    }
  }

  @Test
  void mangled_bodies_fail_only_with_bad_input() {
    Random rnd = new Random(20261127);
    InferRequestDecoder decoder = new InferRequestDecoder();
    InferResponseDecoder responseDecoder = new InferResponseDecoder();
    List<Body> bodies = validBodies();
    int rejected = 0;
    int iterations = 5_000;
    for (int i = 0; i < iterations; i++) {
      Body base = bodies.get(rnd.nextInt(bodies.size()));
      byte[] b = mangle(base.bytes(), rnd);
      Integer header = base.headerLength();
      switch (rnd.nextInt(6)) {
        case 0 -> header = null;
        case 1 -> header = rnd.nextInt(b.length + 10) - 5;
        default -> {}
      }
      try {
        InferRequest r = decoder.decode(Buffer.buffer(b), header, INPUTS, OUTPUTS);
        for (Tensor t : r.inputs()) {
          assertEquals(t.elementCount() * t.datatype().byteSize(), t.byteSize());
        }
      } catch (BadInputException e) {
        rejected++;
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
      } catch (Throwable t) {
        fail(
            "body "
                + new String(b, java.nio.charset.StandardCharsets.ISO_8859_1)
                + " header "
                + header
                + " threw "
                + t,
            t);
      }
      try {
        responseDecoder.decode(Buffer.buffer(b), header);
      } catch (BadInputException e) {
        // expected for most
      } catch (Throwable t) {
        fail(
            "as a response: body "
                + new String(b, java.nio.charset.StandardCharsets.ISO_8859_1)
                + " threw "
                + t,
            t);
      }
    }
    assertTrue(rejected > iterations / 2, "most mangled bodies are rejected: " + rejected);
  }

  private static byte[] mangle(byte[] src, Random rnd) {
    byte[] b = src.clone();
    switch (rnd.nextInt(4)) {
      case 0 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncate
      case 1 -> { // flip bytes
        int n = 1 + rnd.nextInt(4);
        for (int k = 0; k < n; k++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
      }
      case 2 -> { // replace bytes with JSON punctuation and literals
        int n = 1 + rnd.nextInt(4);
        for (int k = 0; k < n; k++) b[rnd.nextInt(b.length)] = JSONISH[rnd.nextInt(JSONISH.length)];
      }
      default -> { // splice: delete or duplicate a range
        int from = rnd.nextInt(b.length);
        int to = Math.min(b.length, from + 1 + rnd.nextInt(40));
        byte[] out;
        if (rnd.nextBoolean()) {
          out = new byte[b.length - (to - from)];
          System.arraycopy(b, 0, out, 0, from);
          System.arraycopy(b, to, out, from, b.length - to);
        } else {
          out = new byte[b.length + (to - from)];
          System.arraycopy(b, 0, out, 0, to);
          System.arraycopy(b, from, out, to, b.length - to);
        }
        b = out;
      }
    }
    return b;
  }
}
