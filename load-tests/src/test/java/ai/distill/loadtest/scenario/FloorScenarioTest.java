package ai.distill.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FloorScenarioTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @Test
  void floor_model_takes_the_same_inputs_and_sums_the_first_per_row() throws Exception {
    ModelMetadata ctr =
        new ModelMetadata(
            "ctr",
            List.of("1"),
            List.of(
                new TensorSpec("dense", Datatype.FP32, new long[] {-1, 3}),
                new TensorSpec("sparse", Datatype.INT64, new long[] {-1, 2})),
            List.of(new TensorSpec("prob", Datatype.FP32, new long[] {-1, 1})));
    try (OrtSession session =
            ENV.createSession(FloorScenario.model(ctr), new OrtSession.SessionOptions());
        OnnxTensor dense =
            OnnxTensor.createTensor(
                ENV, FloatBuffer.wrap(new float[] {1, 2, 3, 4, 5, 6}), new long[] {2, 3});
        OnnxTensor sparse =
            OnnxTensor.createTensor(
                ENV, LongBuffer.wrap(new long[] {7, 8, 9, 10}), new long[] {2, 2});
        OrtSession.Result out = session.run(Map.of("dense", dense, "sparse", sparse))) {
      assertEquals(List.of("dense", "sparse"), List.copyOf(session.getInputNames()));
      OnnxTensor floor = (OnnxTensor) out.get(FloorScenario.OUTPUT).orElseThrow();
      assertArrayEquals(new long[] {2, 1}, floor.getInfo().getShape());
      assertArrayEquals(new float[] {6, 15}, floor.getFloatBuffer().array());
    }
  }

  @Test
  void an_integer_first_input_is_cast_before_the_sum() throws Exception {
    ModelMetadata ids =
        new ModelMetadata(
            "ids",
            List.of("1"),
            List.of(new TensorSpec("ids", Datatype.INT64, new long[] {-1, 2})),
            List.of());
    try (OrtSession session =
            ENV.createSession(FloorScenario.model(ids), new OrtSession.SessionOptions());
        OnnxTensor in =
            OnnxTensor.createTensor(
                ENV, LongBuffer.wrap(new long[] {1, 2, 30, 40}), new long[] {2, 2});
        OrtSession.Result out = session.run(Map.of("ids", in))) {
      assertArrayEquals(new float[] {3, 70}, ((OnnxTensor) out.get(0)).getFloatBuffer().array());
    }
  }

  @Test
  void unknown_datatypes_are_refused_by_name() {
    LoadTestException e =
        assertThrows(LoadTestException.class, () -> FloorScenario.onnxType(Datatype.BYTES));
    assertEquals("input datatype BYTES has no ONNX type for the floor model", e.getMessage());
  }
}
