package ai.distill.gateway.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every datatype through request encode → decode and response encode → decode, as JSON, binary and
 * mixed.
 */
class CodecRoundTripTest {

  private final InferRequestEncoder requestEncoder = new InferRequestEncoder();
  private final InferRequestDecoder requestDecoder = new InferRequestDecoder();
  private final InferResponseEncoder responseEncoder = new InferResponseEncoder();
  private final InferResponseDecoder responseDecoder = new InferResponseDecoder();

  /** Two rows of three edge values of the datatype. */
  static Tensor sample(String name, Datatype dt) {
    long[] shape = {2, 3};
    return switch (dt) {
      case BOOL -> Tensor.ofBooleans(name, shape, true, false, true, true, false, false);
      case UINT8 ->
          Tensor.ofBytes(
              name, dt, shape, (byte) 0, (byte) 255, (byte) 1, (byte) 128, (byte) 7, (byte) 127);
      case INT8 ->
          Tensor.ofBytes(
              name, dt, shape, (byte) -128, (byte) 127, (byte) 0, (byte) -1, (byte) 7, (byte) 1);
      case UINT16 ->
          Tensor.ofShorts(
              name,
              dt,
              shape,
              (short) 0,
              (short) 0xffff,
              (short) 0x8000,
              (short) 1,
              (short) 300,
              (short) 0x7fff);
      case INT16 ->
          Tensor.ofShorts(
              name,
              dt,
              shape,
              Short.MIN_VALUE,
              Short.MAX_VALUE,
              (short) 0,
              (short) -1,
              (short) 300,
              (short) 1);
      case UINT32 ->
          Tensor.ofInts(name, dt, shape, 0, -1, Integer.MIN_VALUE, 1, 70000, Integer.MAX_VALUE);
      case INT32 ->
          Tensor.ofInts(name, dt, shape, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 70000, 1);
      case UINT64 ->
          Tensor.ofLongs(name, dt, shape, 0, -1, Long.MIN_VALUE, 1, 1L << 53 | 1, Long.MAX_VALUE);
      case INT64 ->
          Tensor.ofLongs(name, dt, shape, Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1L << 53 | 1, 1);
      // 1.0, -2.0, 65504 (max), smallest subnormal, 0.5, -0.0
      case FP16 ->
          Tensor.ofShorts(
              name,
              dt,
              shape,
              (short) 0x3c00,
              (short) 0xc000,
              (short) 0x7bff,
              (short) 0x0001,
              (short) 0x3800,
              (short) 0x8000);
      case FP32 ->
          Tensor.ofFloats(
              name,
              shape,
              Float.MIN_VALUE,
              Float.MAX_VALUE,
              -0.0f,
              0.1f,
              Float.NaN,
              Float.NEGATIVE_INFINITY);
      case FP64 ->
          Tensor.ofDoubles(
              name,
              shape,
              Double.MIN_VALUE,
              -Double.MAX_VALUE,
              0.1,
              1e-300,
              Double.NaN,
              Double.POSITIVE_INFINITY);
      case BYTES -> throw new IllegalArgumentException("BYTES");
    };
  }

  private static List<TensorSpec> specs(Datatype dt) {
    return List.of(
        new TensorSpec("x", dt, new long[] {-1, 3}), new TensorSpec("y", dt, new long[] {-1, 3}));
  }

  private InferRequest roundTrip(InferRequest request, Set<String> binary, Datatype dt) {
    InferResponseEncoder.Encoded e = requestEncoder.encode(request, binary);
    return requestDecoder.decode(e.body(), e.inferenceHeaderContentLength(), specs(dt), specs(dt));
  }

  @ParameterizedTest
  @EnumSource(value = Datatype.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
  void request_round_trips_as_json(Datatype dt) {
    InferRequest sent =
        new InferRequest(
            null, List.of(sample("x", dt), sample("y", dt)), List.of(), false, Map.of());
    InferResponseEncoder.Encoded e = requestEncoder.encode(sent, false);
    assertNull(e.inferenceHeaderContentLength());
    assertEquals(sent, requestDecoder.decode(e.body(), null, specs(dt), specs(dt)));
  }

  @ParameterizedTest
  @EnumSource(value = Datatype.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
  void request_round_trips_as_binary(Datatype dt) {
    InferRequest sent =
        new InferRequest("7", List.of(sample("x", dt), sample("y", dt)), List.of(), true, Map.of());
    InferRequest got = roundTrip(sent, null, dt);
    assertEquals(sent.inputs(), got.inputs());
    assertEquals("7", got.id());
    assertEquals(true, got.binaryDataOutput());
  }

  @ParameterizedTest
  @EnumSource(value = Datatype.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
  void request_round_trips_with_json_and_binary_inputs_mixed(Datatype dt) {
    InferRequest sent =
        new InferRequest(
            null,
            List.of(sample("x", dt), sample("y", dt)),
            List.of(new RequestedOutput("y", true)),
            false,
            Map.of("user_id", "u1"));
    InferRequest yBinary = roundTrip(sent, Set.of("y"), dt);
    assertEquals(sent, yBinary);
    InferRequest xBinary = roundTrip(sent, Set.of("x"), dt);
    assertEquals(sent, xBinary);
  }

  @ParameterizedTest
  @EnumSource(value = Datatype.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
  void response_round_trips_as_json_binary_and_mixed(Datatype dt) {
    List<Tensor> outputs = List.of(sample("x", dt), sample("y", dt).sliceRows(1, 2));
    for (boolean xBinary : new boolean[] {false, true}) {
      for (boolean yBinary : new boolean[] {false, true}) {
        InferResponseEncoder.Encoded e =
            responseEncoder.encode(
                "m",
                "3",
                "r1",
                outputs,
                List.of(new RequestedOutput("y", yBinary), new RequestedOutput("x", xBinary)),
                false,
                Map.of("variant", "m"));
        assertEquals(
            xBinary || yBinary ? "application/octet-stream" : "application/json", e.contentType());
        InferResponseDecoder.InferResponse r =
            responseDecoder.decode(e.body(), e.inferenceHeaderContentLength());
        assertEquals(
            List.of(outputs.get(1), outputs.get(0)),
            r.outputs(),
            "x binary " + xBinary + ", y binary " + yBinary);
        assertEquals("m", r.modelName());
        assertEquals("3", r.modelVersion());
        assertEquals("r1", r.id());
        assertEquals(Map.of("variant", "m"), r.parameters());
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = Datatype.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
  void direct_and_heap_tensors_encode_alike(Datatype dt) {
    Tensor heap = sample("x", dt);
    Tensor direct = heap.toDirect();
    for (boolean binary : new boolean[] {false, true}) {
      Buffer a =
          responseEncoder.encode("m", null, null, List.of(heap), List.of(), binary, null).body();
      Buffer b =
          responseEncoder.encode("m", null, null, List.of(direct), List.of(), binary, null).body();
      assertEquals(a, b);
    }
  }
}
