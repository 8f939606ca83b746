package ai.distill.gateway.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InferResponseEncoderTest {

  private final InferResponseEncoder encoder = new InferResponseEncoder();

  private static final Tensor PROB = Tensor.ofFloats("prob", new long[] {2, 1}, 0.25f, 0.5f);
  private static final Tensor IDS = Tensor.ofLongs("ids", new long[] {2, 2}, 1, 2, 3, -4);

  @Test
  void writes_flat_json_data_with_each_outputs_shape() {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("variant", "ctr");
    params.put("model_version", "3");
    InferResponseEncoder.Encoded e =
        encoder.encode("ctr", "3", "r1", List.of(PROB, IDS), List.of(), false, params);
    assertNull(e.inferenceHeaderContentLength());
    assertFalse(e.hasBinary());
    assertEquals("application/json", e.contentType());
    assertEquals(
        "{\"model_name\":\"ctr\",\"model_version\":\"3\",\"id\":\"r1\",\"parameters\":{\"variant\":\"ctr\",\"model_version\":\"3\"},"
            + "\"outputs\":[{\"name\":\"prob\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[0.25,0.5]},"
            + "{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,2],\"data\":[1,2,3,-4]}]}",
        e.body().toString());
  }

  @Test
  void omits_absent_version_id_and_parameters() {
    InferResponseEncoder.Encoded e =
        encoder.encode("ctr", null, null, List.of(PROB), List.of(), false, Map.of());
    assertEquals(
        "{\"model_name\":\"ctr\",\"outputs\":[{\"name\":\"prob\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[0.25,0.5]}]}",
        e.body().toString());
  }

  @Test
  void returns_only_the_requested_outputs_in_request_order() {
    InferResponseEncoder.Encoded e =
        encoder.encode(
            "ctr",
            null,
            null,
            List.of(PROB, IDS),
            List.of(new RequestedOutput("ids", false)),
            false,
            null);
    assertEquals(
        "{\"model_name\":\"ctr\",\"outputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,2],\"data\":[1,2,3,-4]}]}",
        e.body().toString());
    IllegalArgumentException x =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                encoder.encode(
                    "ctr",
                    null,
                    null,
                    List.of(PROB),
                    List.of(new RequestedOutput("nope", false)),
                    false,
                    null));
    assertEquals("requested output 'nope' is not among the outputs [prob]", x.getMessage());
  }

  @Test
  void appends_binary_outputs_little_endian_after_the_json_header() {
    InferResponseEncoder.Encoded e =
        encoder.encode(
            "ctr",
            null,
            null,
            List.of(PROB, IDS),
            List.of(new RequestedOutput("prob", true), new RequestedOutput("ids", false)),
            false,
            null);
    assertTrue(e.hasBinary());
    assertEquals("application/octet-stream", e.contentType());
    String header =
        "{\"model_name\":\"ctr\",\"outputs\":[{\"name\":\"prob\",\"datatype\":\"FP32\",\"shape\":[2,1],"
            + "\"parameters\":{\"binary_data_size\":8}},{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,2],\"data\":[1,2,3,-4]}]}";
    assertEquals(header.length(), e.inferenceHeaderContentLength());
    Buffer body = e.body();
    assertEquals(
        header, body.getString(0, e.inferenceHeaderContentLength(), StandardCharsets.UTF_8.name()));
    assertEquals(header.length() + 8, body.length());
    ByteBuffer tail =
        ByteBuffer.wrap(body.getBytes(header.length(), body.length()))
            .order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0.25f, tail.getFloat(0));
    assertEquals(0.5f, tail.getFloat(4));
  }

  @Test
  void binary_data_output_makes_every_output_binary_when_none_are_requested() {
    InferResponseEncoder.Encoded e =
        encoder.encode("ctr", null, null, List.of(PROB, IDS), List.of(), true, null);
    assertEquals(e.body().length() - 8 - 32, e.inferenceHeaderContentLength());
    InferResponseDecoder.InferResponse r =
        new InferResponseDecoder().decode(e.body(), e.inferenceHeaderContentLength());
    assertEquals(List.of(PROB, IDS), r.outputs());
  }

  @Test
  void writes_non_finite_floats_as_strings_and_unsigned_values_unsigned() {
    Tensor f =
        Tensor.ofFloats(
            "f", new long[] {3}, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
    Tensor u = Tensor.ofLongs("u", Datatype.UINT64, new long[] {1}, -1L);
    Tensor b = Tensor.ofBooleans("b", new long[] {2}, true, false);
    String json =
        encoder.encode("m", null, null, List.of(f, u, b), List.of(), false, null).body().toString();
    assertTrue(json.contains("\"data\":[\"NaN\",\"Infinity\",\"-Infinity\"]"), json);
    assertTrue(json.contains("\"data\":[18446744073709551615]"), json);
    assertTrue(json.contains("\"data\":[true,false]"), json);
  }
}
