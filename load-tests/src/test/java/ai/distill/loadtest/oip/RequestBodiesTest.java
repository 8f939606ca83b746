package ai.distill.loadtest.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.distill.loadtest.LoadTestException;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestBodiesTest {
  static final ModelMetadata MODEL =
      new ModelMetadata(
          "m",
          List.of("1"),
          List.of(
              new TensorSpec("x", Datatype.FP32, new long[] {-1, 2}),
              new TensorSpec("ids", Datatype.INT64, new long[] {-1, 1})),
          List.of());

  static InputRow row(double a, double b, long id) {
    return new InputRow(Map.of("x", new double[] {a, b}, "ids", new double[] {id}));
  }

  @Test
  void json_body_stacks_rows_per_request_in_model_input_order() {
    RequestBodies bodies =
        RequestBodies.encode(
            MODEL, List.of(row(1, 2.5, 7), row(3, 4, 8), row(5, 6, 9)), 2, false, 8);
    assertEquals(2, bodies.size());
    assertEquals(
        "{\"id\":\"r0\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1.0,2.5,3.0,4.0]},"
            + "{\"name\":\"ids\",\"shape\":[2,1],\"datatype\":\"INT64\",\"data\":[7,8]}]}",
        bodies.body(0).toString());
    // The cursor wraps around the rows: the second body is rows 3 and 1.
    assertEquals(
        List.of(9, 7),
        new JsonObject(bodies.body(1))
            .getJsonArray("inputs")
            .getJsonObject(1)
            .getJsonArray("data")
            .getList());
    assertEquals(-1, bodies.headerLength(0));
  }

  @Test
  void binary_body_has_a_json_header_then_little_endian_tensors() {
    RequestBodies bodies =
        RequestBodies.encode(MODEL, List.of(row(1, 2, 7), row(3, 4, 8)), 2, true, 1);
    Buffer body = bodies.body(0);
    int header = bodies.headerLength(0);
    JsonObject json = new JsonObject(body.getBuffer(0, header));
    assertEquals(
        16,
        json.getJsonArray("inputs")
            .getJsonObject(0)
            .getJsonObject("parameters")
            .getInteger("binary_data_size"));
    assertEquals(
        16,
        json.getJsonArray("inputs")
            .getJsonObject(1)
            .getJsonObject("parameters")
            .getInteger("binary_data_size"));
    assertEquals(header + 32, body.length());
    ByteBuffer data =
        ByteBuffer.wrap(body.getBytes(header, body.length())).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1f, data.getFloat());
    assertEquals(2f, data.getFloat());
    assertEquals(3f, data.getFloat());
    assertEquals(4f, data.getFloat());
    assertEquals(7L, data.getLong());
    assertEquals(8L, data.getLong());
  }

  @Test
  void fractional_values_for_an_integer_input_are_rejected() {
    LoadTestException e =
        assertThrows(
            LoadTestException.class,
            () ->
                RequestBodies.encode(
                    MODEL,
                    List.of(
                        new InputRow(Map.of("x", new double[] {1, 2}, "ids", new double[] {0.5}))),
                    1,
                    false,
                    1));
    assertEquals("row 1 input 'ids' has value 0.5 but the model expects INT64", e.getMessage());
  }

  @Test
  void a_missing_input_is_named_with_the_model_inputs() {
    LoadTestException e =
        assertThrows(
            LoadTestException.class,
            () ->
                RequestBodies.encode(
                    MODEL, List.of(new InputRow(Map.of("x", new double[] {1, 2}))), 1, false, 1));
    assertEquals("row 1 lacks input 'ids' of model 'm' (model inputs: x, ids)", e.getMessage());
  }
}
