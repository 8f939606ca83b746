package ai.distill.gateway.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InferRequestDecoderTest {

  static final List<TensorSpec> INPUTS =
      List.of(
          new TensorSpec("dense", Datatype.FP32, new long[] {-1, 3}),
          new TensorSpec("ids", Datatype.INT64, new long[] {-1, 2}));
  static final List<TensorSpec> OUTPUTS =
      List.of(
          new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1}),
          new TensorSpec("logit", Datatype.FP32, new long[] {-1, 1}));

  static final String DENSE =
      "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6]}";
  static final String IDS =
      "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [[7, 8], [9, 10]]}";

  private final InferRequestDecoder decoder = new InferRequestDecoder();

  private InferRequest decode(String json) {
    return decoder.decode(Buffer.buffer(json), null, INPUTS, OUTPUTS);
  }

  private static String request(String... inputs) {
    return "{\"inputs\": [" + String.join(", ", inputs) + "]}";
  }

  private void assertBad(String json, String message) {
    BadInputException e = assertThrows(BadInputException.class, () -> decode(json));
    assertEquals(400, e.status());
    assertEquals(message, e.getMessage());
  }

  private void assertBad(Buffer body, Integer headerLength, String message) {
    BadInputException e =
        assertThrows(
            BadInputException.class, () -> decoder.decode(body, headerLength, INPUTS, OUTPUTS));
    assertEquals(400, e.status());
    assertEquals(message, e.getMessage());
  }

  @Test
  void decodes_flat_and_nested_json_data() {
    InferRequest r = decode("{\"id\": \"r1\", \"inputs\": [" + DENSE + ", " + IDS + "]}");
    assertEquals("r1", r.id());
    assertEquals(Tensor.ofFloats("dense", new long[] {2, 3}, 1, 2, 3, 4, 5, 6), r.input("dense"));
    assertEquals(Tensor.ofLongs("ids", new long[] {2, 2}, 7, 8, 9, 10), r.input("ids"));
    assertEquals(2, r.rows());
    assertTrue(r.outputs().isEmpty());
    assertFalse(r.binaryDataOutput());
    assertEquals(Map.of(), r.parameters());
  }

  @Test
  void decodes_data_that_comes_before_shape_and_datatype() {
    String dense =
        "{\"data\": [[1.5, 2, 3], [4, 5, 6], [7, 8, 9]], \"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [3, 3]}";
    String ids =
        "{\"data\": [1, 2, 3, 4, 5, 6], \"shape\": [3, 2], \"name\": \"ids\", \"datatype\": \"INT64\"}";
    InferRequest r = decode(request(dense, ids));
    assertEquals(
        Tensor.ofFloats("dense", new long[] {3, 3}, 1.5f, 2, 3, 4, 5, 6, 7, 8, 9),
        r.input("dense"));
    assertEquals(Tensor.ofLongs("ids", new long[] {3, 2}, 1, 2, 3, 4, 5, 6), r.input("ids"));
    assertArrayEquals(new long[] {3, 3}, r.input("dense").shape());
  }

  @Test
  void reads_request_parameters_as_plain_java_values() {
    InferRequest r =
        decode(
            "{\"parameters\": {\"user_id\": \"u42\", \"n\": 3, \"x\": 0.5, \"on\": true, \"none\": null,"
                + " \"list\": [1, \"a\"], \"obj\": {\"k\": 18446744073709551615}}, \"inputs\": ["
                + DENSE
                + ", "
                + IDS
                + "]}");
    assertEquals("u42", r.parameters().get("user_id"));
    assertEquals(3L, r.parameters().get("n"));
    assertEquals(0.5, r.parameters().get("x"));
    assertEquals(true, r.parameters().get("on"));
    assertTrue(r.parameters().containsKey("none"));
    assertNull(r.parameters().get("none"));
    assertEquals(List.of(1L, "a"), r.parameters().get("list"));
    assertEquals(
        Map.of("k", new java.math.BigInteger("18446744073709551615")), r.parameters().get("obj"));
  }

  @Test
  void resolves_binary_flags_of_requested_outputs() {
    InferRequest r =
        decode(
            "{\"parameters\": {\"binary_data_output\": true}, \"inputs\": ["
                + DENSE
                + ", "
                + IDS
                + "],"
                + " \"outputs\": [{\"name\": \"logit\", \"parameters\": {\"binary_data\": false}}, {\"name\": \"prob\"}]}");
    assertTrue(r.binaryDataOutput());
    assertEquals(
        List.of(new RequestedOutput("logit", false), new RequestedOutput("prob", true)),
        r.outputs());

    InferRequest plain =
        decode(
            "{\"inputs\": ["
                + DENSE
                + ", "
                + IDS
                + "],"
                + " \"outputs\": [{\"name\": \"prob\", \"parameters\": {\"binary_data\": true}}, {\"name\": \"logit\"}]}");
    assertFalse(plain.binaryDataOutput());
    assertEquals(
        List.of(new RequestedOutput("prob", true), new RequestedOutput("logit", false)),
        plain.outputs());
  }

  @Test
  void accepts_numeric_id_and_ignores_unknown_fields() {
    InferRequest r =
        decode(
            "{\"id\": 17, \"extra\": {\"a\": [1, 2]}, \"inputs\": ["
                + "{\"name\": \"dense\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"foo\": [[]], \"parameters\": {\"x\": 1}, \"data\": [1, 2, 3]},"
                + "{\"name\": \"ids\", \"shape\": [1, 2], \"datatype\": \"INT64\", \"data\": [1, 2]}]}");
    assertEquals("17", r.id());
  }

  @Test
  void decodes_binary_inputs_after_the_json_header() {
    String header =
        "{\"inputs\": [{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": 24}},"
            + " {\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 32}}]}";
    ByteBuffer bin = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) bin.putFloat(i + 0.25f);
    for (int i = 0; i < 4; i++) bin.putLong(1L << (40 + i));
    Buffer body = Buffer.buffer(header).appendBytes(bin.array());
    InferRequest r =
        decoder.decode(body, header.getBytes(StandardCharsets.UTF_8).length, INPUTS, OUTPUTS);
    assertEquals(
        Tensor.ofFloats("dense", new long[] {2, 3}, 0.25f, 1.25f, 2.25f, 3.25f, 4.25f, 5.25f),
        r.input("dense"));
    assertEquals(
        Tensor.ofLongs("ids", new long[] {2, 2}, 1L << 40, 1L << 41, 1L << 42, 1L << 43),
        r.input("ids"));
  }

  @Test
  void decodes_binary_and_json_inputs_mixed_in_one_request() {
    String header =
        "{\"inputs\": ["
            + DENSE
            + ", {\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 32}}]}";
    ByteBuffer bin = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) bin.putLong(-i);
    Buffer body = Buffer.buffer(header).appendBytes(bin.array());
    InferRequest r = decoder.decode(body, body.length() - 32, INPUTS, OUTPUTS);
    assertEquals(Tensor.ofFloats("dense", new long[] {2, 3}, 1, 2, 3, 4, 5, 6), r.input("dense"));
    assertEquals(Tensor.ofLongs("ids", new long[] {2, 2}, 0, -1, -2, -3), r.input("ids"));
  }

  @Test
  void direct_decoder_fills_direct_buffers() {
    InferRequest r =
        new InferRequestDecoder(true)
            .decode(Buffer.buffer(request(DENSE, IDS)), null, INPUTS, OUTPUTS);
    assertTrue(r.input("dense").isDirect());
    assertEquals(Tensor.ofFloats("dense", new long[] {2, 3}, 1, 2, 3, 4, 5, 6), r.input("dense"));
    InferRequest sent =
        new InferRequest(
            null,
            List.of(
                Tensor.ofFloats("dense", new long[] {1, 3}, 1, 2, 3),
                Tensor.ofLongs("ids", new long[] {1, 2}, -7, 8)),
            List.of(),
            false,
            Map.of());
    InferResponseEncoder.Encoded e = new InferRequestEncoder().encode(sent, true);
    InferRequest binary =
        new InferRequestDecoder(true)
            .decode(e.body(), e.inferenceHeaderContentLength(), INPUTS, OUTPUTS);
    assertTrue(binary.input("ids").isDirect());
    assertEquals(sent.inputs(), binary.inputs());
  }

  @Test
  void decodes_sliced_and_direct_vertx_buffers_alike() {
    String header =
        "{\"inputs\": [{\"data\": [[1, 2, 3], [4, 5, 6]], \"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\"},"
            + " {\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 32}}]}";
    ByteBuffer bin = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) bin.putLong(10 + i);
    Buffer plain = Buffer.buffer(header).appendBytes(bin.array());
    Buffer sliced =
        Buffer.buffer("garbage")
            .appendBuffer(plain)
            .appendString("tail")
            .slice(7, 7 + plain.length());
    Buffer direct =
        io.vertx.core.internal.buffer.BufferInternal.buffer(
            io.netty.buffer.Unpooled.directBuffer(plain.length()).writeBytes(plain.getBytes()));
    int h = header.length();
    InferRequest expected = decoder.decode(plain, h, INPUTS, OUTPUTS);
    assertEquals(
        Tensor.ofFloats("dense", new long[] {2, 3}, 1, 2, 3, 4, 5, 6), expected.input("dense"));
    assertEquals(Tensor.ofLongs("ids", new long[] {2, 2}, 10, 11, 12, 13), expected.input("ids"));
    for (Buffer b : List.of(sliced, direct)) {
      assertEquals(expected, decoder.decode(b, h, INPUTS, OUTPUTS));
      assertEquals(expected, new InferRequestDecoder(true).decode(b, h, INPUTS, OUTPUTS));
    }
    Buffer broken = Buffer.buffer("xx{\"inputs\": [}").slice(2, 15);
    assertBad(
        broken,
        null,
        "malformed JSON at line 1, column 13: Unexpected close marker '}': expected ']' (for Array starting at [line: 1, column: 12])");
  }

  @Test
  void parses_the_header_length_header() {
    assertNull(InferRequestDecoder.parseHeaderLength(null));
    assertEquals(12, InferRequestDecoder.parseHeaderLength(" 12 "));
    BadInputException e =
        assertThrows(BadInputException.class, () -> InferRequestDecoder.parseHeaderLength("-3"));
    assertEquals(
        "Inference-Header-Content-Length '-3' is not a byte count (expected: a non-negative integer)",
        e.getMessage());
    e = assertThrows(BadInputException.class, () -> InferRequestDecoder.parseHeaderLength("abc"));
    assertEquals(
        "Inference-Header-Content-Length 'abc' is not a byte count (expected: a non-negative integer)",
        e.getMessage());
  }

  // ---- bad input: every message names the input and says expected vs received ----

  @Test
  void rejects_malformed_json_with_its_position() {
    assertBad(
        "{\"inputs\": [}",
        "malformed JSON at line 1, column 13: Unexpected close marker '}': expected ']' (for Array starting at [line: 1, column: 12])");
    assertBad(
        "{\"inputs\": [{\"name\": \"dense\",",
        "malformed JSON at line 1, column 30: Unexpected end-of-input within/between Object entries");
    assertBad("[1]", "the request must be a JSON object, got an array");
    assertBad(
        "{} {}",
        "malformed JSON: unexpected content after the request object at byte 2 (binary tensor data needs the Inference-Header-Content-Length header)");
    assertBad(
        "",
        "the body has no JSON part (expected: a JSON object, optionally followed by binary tensor data)");
  }

  @Test
  void rejects_nesting_and_numbers_beyond_the_parser_limits() {
    assertBad(
        "{\"parameters\": {\"x\": "
            + "[".repeat(70)
            + "]".repeat(70)
            + "}, \"inputs\": ["
            + DENSE
            + ", "
            + IDS
            + "]}",
        "malformed JSON: Document nesting depth (65) exceeds the maximum allowed (64)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, "
                + "9".repeat(1500)
                + "]}",
            IDS),
        "malformed JSON: Number value length (1500) exceeds the maximum allowed (1000)");
  }

  @Test
  void rejects_duplicate_keys() {
    assertBad(
        "{\"inputs\": [], \"inputs\": []}",
        "malformed JSON at line 1, column 24: Duplicate field 'inputs'");
  }

  @Test
  void rejects_missing_and_empty_inputs() {
    assertBad(
        "{}",
        "the request has no 'inputs'; the model expects 'dense' FP32 [-1, 3], 'ids' INT64 [-1, 2]");
    assertBad(
        "{\"inputs\": []}",
        "the request's 'inputs' is empty; the model expects 'dense' FP32 [-1, 3], 'ids' INT64 [-1, 2]");
    assertBad(
        request(DENSE),
        "missing input(s) 'ids'; the model expects 'dense' FP32 [-1, 3], 'ids' INT64 [-1, 2]");
  }

  @Test
  void rejects_unexpected_and_duplicate_inputs() {
    String extra =
        "{\"name\": \"age\", \"shape\": [2, 1], \"datatype\": \"FP32\", \"data\": [1, 2]}";
    assertBad(
        request(DENSE, IDS, extra),
        "unexpected input(s) 'age'; the model expects 'dense' FP32 [-1, 3], 'ids' INT64 [-1, 2]");
    assertBad(
        request(DENSE, extra),
        "missing input(s) 'ids' and unexpected input(s) 'age'; the model expects 'dense' FP32 [-1, 3], 'ids' INT64 [-1, 2]");
    assertBad(request(DENSE, IDS, DENSE), "input 'dense' appears more than once");
    String noData = "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\"}";
    assertBad(request(noData, IDS, noData), "input 'dense' appears more than once");
    assertBad(
        request(DENSE, "{\"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 3, 4]}"),
        "inputs[1] has no 'name'");
  }

  @Test
  void rejects_a_wrong_datatype() {
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3, 4, 5, 6]}",
            IDS),
        "input 'dense': datatype INT64 does not match the model's FP32");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FLOAT32\", \"data\": [1, 2, 3, 4, 5, 6]}",
            IDS),
        "input 'dense': unknown datatype 'FLOAT32' (expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)");
    // datatype after the data: reported the same way
    assertBad(
        request(
            "{\"name\": \"dense\", \"data\": [1, 2, 3, 4, 5, 6], \"shape\": [2, 3], \"datatype\": \"FP64\"}",
            IDS),
        "input 'dense': datatype FP64 does not match the model's FP32");
    assertBad(
        request("{\"name\": \"dense\", \"shape\": [2, 3], \"data\": [1, 2, 3, 4, 5, 6]}", IDS),
        "input 'dense' has no 'datatype'");
  }

  @Test
  void rejects_a_shape_that_does_not_match_the_model() {
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 2], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4]}",
            IDS),
        "input 'dense': shape [2, 2] does not match the model's [-1, 3]");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [6], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6]}",
            IDS),
        "input 'dense': shape [6] does not match the model's [-1, 3]");
    assertBad(
        request("{\"name\": \"dense\", \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6]}", IDS),
        "input 'dense' has no 'shape'");
  }

  @Test
  void rejects_negative_zero_and_huge_dimensions() {
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [-2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
            IDS),
        "input 'dense': shape [-2, 3] has a dimension below 1 (every dimension must be at least 1)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [0, 3], \"datatype\": \"FP32\", \"data\": []}", IDS),
        "input 'dense': shape [0, 3] has a dimension below 1 (every dimension must be at least 1)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [4611686018427387904, 3], \"datatype\": \"FP32\", \"data\": [1]}",
            IDS),
        "input 'dense': shape [4611686018427387904, 3] is too large (over 2147483631 bytes)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [100000000000000000000, 3], \"datatype\": \"FP32\", \"data\": [1]}",
            IDS),
        "input 'dense': shape dimension 100000000000000000000 is too large");
    // a plausible shape with too little data: counted, never allocated for the claimed size
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [100000000, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
            "{\"name\": \"ids\", \"shape\": [100000000, 2], \"datatype\": \"INT64\", \"data\": [1, 2]}"),
        "input 'dense': shape [100000000, 3] needs 300000000 values, got 3");
  }

  @Test
  void does_not_allocate_for_a_claimed_shape_beyond_the_values_present() {
    // 536870907 FP32 values would be a 2 GB buffer (more than the test heap): only the values
    // present count
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [178956969, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
            "{\"name\": \"ids\", \"shape\": [178956969, 2], \"datatype\": \"INT64\", \"data\": [1, 2]}"),
        "input 'ids': shape [178956969, 2] is too large (over 2147483631 bytes)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [178956969, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
            "{\"name\": \"ids\", \"shape\": [178956969, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 16}}"),
        "input 'ids': shape [178956969, 2] is too large (over 2147483631 bytes)");
    String binary =
        request(
            "{\"name\": \"dense\", \"shape\": [100000000, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": 1200000000}}",
            "{\"name\": \"ids\", \"shape\": [100000000, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 1600000000}}");
    assertBad(
        Buffer.buffer(binary).appendBytes(new byte[64]),
        binary.length(),
        "the body has 64 bytes of binary data after the JSON header but the inputs' binary_data_size add up to 2800000000");
  }

  @Test
  void rejects_inputs_that_disagree_on_the_batch_dimension() {
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [3, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 3, 4, 5, 6]}"),
        "inputs disagree on the batch dimension: 'dense' has 2 rows, 'ids' has 3");
  }

  @Test
  void rejects_an_element_count_that_is_not_the_product_of_the_shape() {
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5]}",
            IDS),
        "input 'dense': shape [2, 3] needs 6 values, got 5");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [[1, 2, 3], [4, 5, 6], [7]]}",
            IDS),
        "input 'dense': shape [2, 3] needs 6 values, got 7");
    assertBad(
        request(
            "{\"data\": [1, 2, 3], \"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\"}",
            IDS),
        "input 'dense': shape [2, 3] needs 6 values, got 3");
  }

  @Test
  void rejects_non_numeric_values() {
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, \"abc\", 4, 5, 6]}",
            IDS),
        "input 'dense': value \"abc\" at index 2 is not a number (FP32)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, null, 6]}",
            IDS),
        "input 'dense': value null at index 4 is not a number (FP32)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, {\"a\": 1}]}",
            IDS),
        "input 'dense': value an object at index 5 is not a number (FP32)");
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, true, 3, 4]}"),
        "input 'ids': value true at index 1 is not a number (INT64)");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": 5}", IDS),
        "input 'dense': 'data' must be an array, got 5");
  }

  @Test
  void rejects_values_out_of_range_for_the_datatype() {
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 1.5, 3, 4]}"),
        "input 'ids': value 1.5 at index 1 is not an integer (INT64)");
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 9223372036854775808, 4]}"),
        "input 'ids': value 9223372036854775808 at index 2 is out of range for INT64");
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 3, NaN]}"),
        "input 'ids': value NaN at index 3 is not an integer (INT64)");
    assertBad(
        request(
            DENSE,
            "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 3, 1e300]}"),
        "input 'ids': value 1e300 at index 3 is out of range for INT64");
    assertBad(
        request(
            "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 1e39]}",
            IDS),
        "input 'dense': value 1e39 at index 5 is out of range for FP32");
  }

  @Test
  void enforces_the_domain_of_small_and_unsigned_types() {
    assertBadSingle(
        Datatype.UINT8,
        "[1, 300]",
        "input 'x': value 300 at index 1 is out of range for UINT8 [0, 255]");
    assertBadSingle(
        Datatype.UINT8,
        "[-1, 3]",
        "input 'x': value -1 at index 0 is out of range for UINT8 [0, 255]");
    assertBadSingle(
        Datatype.INT8,
        "[1, -129]",
        "input 'x': value -129 at index 1 is out of range for INT8 [-128, 127]");
    assertBadSingle(
        Datatype.INT32,
        "[2147483648, 1]",
        "input 'x': value 2147483648 at index 0 is out of range for INT32 [-2147483648, 2147483647]");
    assertBadSingle(
        Datatype.UINT64,
        "[18446744073709551616, 1]",
        "input 'x': value 18446744073709551616 at index 0 is out of range for UINT64 [0, 18446744073709551615]");
    assertBadSingle(
        Datatype.FP16, "[1, 70000]", "input 'x': value 70000 at index 1 is out of range for FP16");
    assertBadSingle(
        Datatype.BOOL,
        "[true, 2]",
        "input 'x': value 2 at index 1 is not a boolean (BOOL takes true/false or 0/1)");
    assertBadSingle(
        Datatype.BOOL,
        "[\"true\", 1]",
        "input 'x': value \"true\" at index 0 is not a boolean (BOOL takes true/false or 0/1)");
    List<TensorSpec> spec = List.of(new TensorSpec("x", Datatype.BOOL, new long[] {-1}));
    InferRequest r =
        decoder.decode(
            Buffer.buffer(
                request(
                    "{\"name\": \"x\", \"shape\": [4], \"datatype\": \"BOOL\", \"data\": [true, 0, 1, false]}")),
            null,
            spec,
            List.of());
    assertEquals(Tensor.ofBooleans("x", new long[] {4}, true, false, true, false), r.input("x"));
    String header =
        request(
            "{\"name\": \"x\", \"shape\": [2], \"datatype\": \"BOOL\", \"parameters\": {\"binary_data_size\": 2}}");
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                decoder.decode(
                    Buffer.buffer(header).appendBytes(new byte[] {1, 7}),
                    header.length(),
                    spec,
                    List.of()));
    assertEquals(
        "input 'x': byte 7 at index 1 is not a boolean (BOOL takes 0 or 1)", e.getMessage());
  }

  private void assertBadSingle(Datatype dt, String data, String message) {
    List<TensorSpec> spec = List.of(new TensorSpec("x", dt, new long[] {-1}));
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                decoder.decode(
                    Buffer.buffer(
                        request(
                            "{\"name\": \"x\", \"shape\": [2], \"datatype\": \""
                                + dt
                                + "\", \"data\": "
                                + data
                                + "}")),
                    null,
                    spec,
                    List.of()));
    assertEquals(400, e.status());
    assertEquals(message, e.getMessage());
  }

  @Test
  void accepts_integral_floats_and_nan_where_they_fit() {
    InferRequest r =
        decode(
            request(
                "{\"name\": \"dense\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [NaN, \"NaN\", \"-Infinity\", Infinity, -0.0, 1e-50]}",
                "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [2.0, 1e3, -9223372036854775808, 9223372036854775807]}"));
    Tensor dense = r.input("dense");
    assertTrue(Double.isNaN(dense.getDouble(0)));
    assertTrue(Double.isNaN(dense.getDouble(1)));
    assertEquals(Double.NEGATIVE_INFINITY, dense.getDouble(2));
    assertEquals(Double.POSITIVE_INFINITY, dense.getDouble(3));
    assertEquals(
        Tensor.ofLongs("ids", new long[] {2, 2}, 2, 1000, Long.MIN_VALUE, Long.MAX_VALUE),
        r.input("ids"));
  }

  @Test
  void rejects_binary_sizes_that_do_not_match() {
    String header =
        "{\"inputs\": ["
            + DENSE
            + ", {\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 24}}]}";
    int h = header.length();
    assertBad(
        Buffer.buffer(header).appendBytes(new byte[24]),
        h,
        "input 'ids': binary_data_size 24 does not match the 32 bytes of INT64 [2, 2]");
    String ok = header.replace("24}", "32}");
    assertBad(
        Buffer.buffer(ok).appendBytes(new byte[31]),
        ok.length(),
        "the body has 31 bytes of binary data after the JSON header but the inputs' binary_data_size add up to 32");
    assertBad(
        Buffer.buffer(ok).appendBytes(new byte[40]),
        ok.length(),
        "the body has 40 bytes of binary data after the JSON header but the inputs' binary_data_size add up to 32");
    assertBad(
        Buffer.buffer(ok).appendBytes(new byte[32]),
        null,
        "malformed JSON: unexpected content after the request object at byte "
            + ok.length()
            + " (binary tensor data needs the Inference-Header-Content-Length header)");
    assertBad(
        Buffer.buffer(ok),
        null,
        "input 'ids' has a binary_data_size parameter but the request has no Inference-Header-Content-Length header");
    String json = request(DENSE, IDS);
    assertBad(
        Buffer.buffer(json).appendBytes(new byte[8]),
        json.length(),
        "the body has 8 bytes of binary data after the JSON header but the inputs' binary_data_size add up to 0");
    String both =
        "{\"inputs\": ["
            + DENSE
            + ", {\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\", \"data\": [1, 2, 3, 4], \"parameters\": {\"binary_data_size\": 32}}]}";
    assertBad(
        Buffer.buffer(both).appendBytes(new byte[32]),
        both.length(),
        "input 'ids' has both 'data' and a binary_data_size parameter (send one of them)");
    assertBad(
        request(DENSE, "{\"name\": \"ids\", \"shape\": [2, 2], \"datatype\": \"INT64\"}"),
        "input 'ids' has no 'data' (and no binary_data_size parameter)");
  }

  @Test
  void rejects_a_header_length_beyond_the_body() {
    String json = request(DENSE, IDS);
    assertBad(
        Buffer.buffer(json),
        json.length() + 1,
        "Inference-Header-Content-Length "
            + (json.length() + 1)
            + " exceeds the body's "
            + json.length()
            + " bytes");
    assertBad(
        Buffer.buffer(json),
        -1,
        "Inference-Header-Content-Length -1 is negative (expected: the byte length of the JSON part)");
    assertBad(
        Buffer.buffer(json),
        0,
        "the body has no JSON part (expected: a JSON object, optionally followed by binary tensor data)");
    assertBad(
        Buffer.buffer(json),
        json.length() - 1,
        "malformed JSON at line 1, column 178: Unexpected end-of-input: expected close marker for Object (start marker at [line: 1, column: 1])");
  }

  @Test
  void rejects_unknown_and_duplicate_requested_outputs() {
    String in = "\"inputs\": [" + DENSE + ", " + IDS + "]";
    assertBad(
        "{" + in + ", \"outputs\": [{\"name\": \"prob\"}, {\"name\": \"score\"}]}",
        "unknown output(s) 'score'; the model's outputs are 'prob', 'logit'");
    assertBad(
        "{" + in + ", \"outputs\": [{\"name\": \"prob\"}, {\"name\": \"prob\"}]}",
        "output 'prob' is requested more than once");
    assertBad("{" + in + ", \"outputs\": [{\"parameters\": {}}]}", "outputs[0] has no 'name'");
    assertBad(
        "{" + in + ", \"outputs\": [{\"name\": \"prob\", \"parameters\": {\"binary_data\": 1}}]}",
        "outputs[0]: binary_data must be true or false, got 1");
    assertBad(
        "{" + in + ", \"parameters\": {\"binary_data_output\": \"yes\"}}",
        "parameters.binary_data_output must be true or false, got yes");
  }

  @Test
  void rejects_bytes_tensors() {
    List<TensorSpec> spec = List.of(new TensorSpec("text", Datatype.BYTES, new long[] {-1}));
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                decoder.decode(
                    Buffer.buffer(
                        request(
                            "{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}")),
                    null,
                    spec,
                    List.of()));
    assertEquals("input 'text': datatype BYTES is not supported by this server", e.getMessage());
  }

  @Test
  void bad_input_exception_carries_a_4xx_status() {
    assertEquals(400, new BadInputException("x").status());
    assertEquals(413, new BadInputException(413, "too big").status());
    assertThrows(IllegalArgumentException.class, () -> new BadInputException(500, "no"));
  }
}
