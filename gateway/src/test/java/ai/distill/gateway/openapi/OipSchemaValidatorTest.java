package ai.distill.gateway.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.protocol.InferResponseEncoder;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.gateway.testing.OipSchemaValidator;
import ai.distill.store.tensor.Datatype;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OipSchemaValidatorTest {

  private static OipSchemaValidator oip;
  private final InferResponseEncoder encoder = new InferResponseEncoder();

  private static final List<Tensor> OUTPUTS =
      List.of(
          Tensor.ofFloats("prob", new long[] {2, 1}, 0.25f, Float.NaN),
          Tensor.ofLongs("ids", new long[] {2}, 1, -2),
          Tensor.ofBooleans("flag", new long[] {1}, true),
          Tensor.ofLongs("u", Datatype.UINT64, new long[] {1}, -1));

  @BeforeAll
  static void load() {
    oip = OipSchemaValidator.loadOrSkip();
  }

  @Test
  void knows_the_component_schemas() {
    assertTrue(
        oip.schemaNames()
            .containsAll(
                List.of(
                    "inference_response",
                    "inference_request",
                    "metadata_server_response",
                    "metadata_model_response",
                    "metadata_model_error_response",
                    "inference_error_response")),
        oip.schemaNames().toString());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> oip.validate("nope", "{}"));
    assertTrue(e.getMessage().startsWith("schema : nope (expected one of ["), e.getMessage());
  }

  @Test
  void json_responses_of_the_encoder_are_valid() {
    InferResponseEncoder.Encoded e =
        encoder.encode("ctr", "3", "r1", OUTPUTS, List.of(), false, Map.of("variant", "ctr"));
    oip.assertValid("inference_response", e.body().toString());
    oip.assertValidInferenceResponse(e.body(), e.inferenceHeaderContentLength());
    InferResponseEncoder.Encoded minimal =
        encoder.encode("ctr", null, null, OUTPUTS.subList(0, 1), List.of(), false, null);
    oip.assertValid("inference_response", minimal.body().toString());
  }

  @Test
  void binary_responses_of_the_encoder_are_valid() {
    InferResponseEncoder.Encoded e =
        encoder.encode(
            "ctr",
            "3",
            "r1",
            OUTPUTS,
            List.of(new RequestedOutput("prob", true), new RequestedOutput("ids", false)),
            false,
            null);
    assertTrue(e.hasBinary());
    oip.assertValidInferenceResponse(e.body(), e.inferenceHeaderContentLength());
    // the plain schema wants data on every output: the JSON header alone is not an OIP JSON
    // response
    String header = e.body().getString(0, e.inferenceHeaderContentLength());
    assertEquals(
        List.of("$.outputs[0]: required property 'data' not found"),
        oip.validate("inference_response", header));
  }

  @Test
  void broken_responses_fail() {
    assertEquals(
        List.of("$: required property 'model_name' not found"),
        oip.validate("inference_response", "{\"outputs\": []}"));
    List<String> problems =
        oip.validate(
            "inference_response",
            "{\"model_name\": \"m\", \"outputs\": [{\"name\": \"p\", \"datatype\": \"FP32\", \"shape\": [\"2\"], \"data\": [1, 2]}]}");
    assertEquals(List.of("$.outputs[0].shape[0]: string found, integer expected"), problems);
    assertFalse(
        oip.validateInferenceResponse(Buffer.buffer("{\"model_name\": 5, \"outputs\": {}}"), null)
            .isEmpty());
    AssertionError err =
        assertThrows(
            AssertionError.class,
            () -> oip.assertValid("inference_response", "{\"model_name\": \"m\"}"));
    assertTrue(
        err.getMessage()
            .startsWith(
                "not a valid inference_response: [$: required property 'outputs' not found]"),
        err.getMessage());
  }

  @Test
  void validates_metadata_shapes() {
    oip.assertValid(
        "metadata_server_response",
        "{\"name\": \"distill\", \"version\": \"0.1.0\", \"extensions\": [\"binary_tensor_data\"]}");
    oip.assertValid(
        "metadata_model_response",
        "{\"name\": \"ctr\", \"versions\": [\"1\", \"2\"], \"platform\": \"onnxruntime_onnx\","
            + " \"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\", \"shape\": [-1, 13]}],"
            + " \"outputs\": [{\"name\": \"prob\", \"datatype\": \"FP32\", \"shape\": [-1, 1]}]}");
    oip.assertValid("metadata_model_error_response", "{\"error\": \"unknown model 'x'\"}");
    assertEquals(
        List.of("$.inputs[0]: required property 'shape' not found"),
        oip.validate(
            "metadata_model_response",
            "{\"name\": \"ctr\", \"platform\": \"onnx\", \"inputs\": [{\"name\": \"dense\", \"datatype\": \"FP32\"}]}"));
    assertEquals(
        List.of("$: required property 'extensions' not found"),
        oip.validate(
            "metadata_server_response", "{\"name\": \"distill\", \"version\": \"0.1.0\"}"));
  }
}
