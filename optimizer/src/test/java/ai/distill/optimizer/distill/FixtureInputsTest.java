package ai.distill.optimizer.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.List;
import org.junit.jupiter.api.Test;

class FixtureInputsTest {

  @Test
  void fixture_inputs_follow_the_documented_distribution() {
    TeacherSignature sig =
        TeacherSignature.of(
            List.of(
                OnnxModel.valueInfo("dense", DataType.FLOAT, -1, 13),
                OnnxModel.valueInfo("sparse", DataType.INT64, -1, 26)),
            List.of(OnnxModel.valueInfo("prob", DataType.FLOAT, -1, 1)));
    RowTable t = FixtureInputs.generate(sig, 20_000, 4);
    long[] ids = (long[]) t.values(1);
    int zero = 0;
    for (long id : ids) {
      assertTrue(id >= 0 && id <= 999, "id " + id);
      if (id == 0) {
        zero++;
      }
    }
    // Zipf(1.3): P(Z = 1) = 1 / ζ(1.3) ≈ 0.255; Z = 2 gives id 7 with P ≈ 0.104
    assertEquals(0.255, zero / (double) ids.length, 0.01);
    long sevens = java.util.Arrays.stream(ids).filter(id -> id == 7).count();
    assertEquals(0.104, sevens / (double) ids.length, 0.01);
    float[] dense = (float[]) t.values(0);
    double mean = 0;
    for (float v : dense) {
      mean += v;
    }
    mean /= dense.length;
    assertTrue(mean > 1.3 && mean < 1.8, "mean ln(1 + X) " + mean);
  }
}
