package ai.distill.optimizer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.distill.optimizer.quant.QuantMath.Params;
import ai.distill.optimizer.quant.QuantMath.QType;
import ai.distill.optimizer.quant.QuantMath.WeightQuant;
import org.junit.jupiter.api.Test;

class QuantMathTest {

  @Test
  void rounds_half_to_even() {
    Params p = new Params(1f, 0);
    assertEquals(2, QuantMath.quantize(2.5f, p, -128, 127));
    assertEquals(4, QuantMath.quantize(3.5f, p, -128, 127));
    assertEquals(-2, QuantMath.quantize(-2.5f, p, -128, 127));
    assertEquals(0, QuantMath.quantize(0.5f, p, -128, 127));
    assertEquals(1, QuantMath.quantize(0.51f, p, -128, 127));
  }

  @Test
  void saturates_at_the_type_limits() {
    Params p = new Params(0.1f, 10);
    assertEquals(255, QuantMath.quantize(1000f, p, 0, 255));
    assertEquals(0, QuantMath.quantize(-1000f, p, 0, 255));
    assertEquals(127, QuantMath.quantize(1e9f, new Params(1f, 0), -127, 127));
    assertEquals(-127, QuantMath.quantize(-1e9f, new Params(1f, 0), -127, 127));
  }

  @Test
  void asymmetric_uint8_matches_hand_computed_and_represents_zero_exactly() {
    // [-1, 3]: scale 4/255, zero point round(0 + 1/(4/255)) = round(63.75) = 64
    Params p = QuantMath.activation(-1, 3, QType.UINT8, false);
    assertEquals(4f / 255, p.scale(), 1e-9);
    assertEquals(64, p.zeroPoint());
    assertEquals(0f, QuantMath.dequantize(QuantMath.quantize(0f, p, 0, 255), p));
    // a range that excludes 0 is widened to include it
    Params q = QuantMath.activation(2, 6, QType.UINT8, false);
    assertEquals(0, q.zeroPoint());
    assertEquals(6f / 255, q.scale(), 1e-9);
  }

  @Test
  void range_starting_at_zero_gets_the_type_minimum_as_zero_point() {
    assertEquals(0, QuantMath.activation(0, 5, QType.UINT8, false).zeroPoint());
    assertEquals(-128, QuantMath.activation(0, 5, QType.INT8, false).zeroPoint());
    assertEquals(-128, QuantMath.activation(0, 0, QType.INT8, false).zeroPoint());
  }

  @Test
  void symmetric_activations_center_the_zero_point() {
    Params i8 = QuantMath.activation(-2, 1, QType.INT8, true);
    assertEquals(0, i8.zeroPoint());
    assertEquals(2f / 127, i8.scale(), 1e-9);
    Params u8 = QuantMath.activation(-2, 1, QType.UINT8, true);
    assertEquals(128, u8.zeroPoint());
    assertEquals(4f / 255, u8.scale(), 1e-9);
  }

  @Test
  void per_channel_weights_get_one_scale_per_output_channel() {
    // rows are output channels (axis 0), as in Gemm with transB=1
    float[] w = {1f, -0.5f, 0.25f, 0.1f, 0.2f, -0.4f};
    WeightQuant q = QuantMath.quantizeWeights(w, 2, 3, 0, true, false);
    assertArrayEquals(new float[] {1f / 127, 0.4f / 127}, q.scales(), 1e-9f);
    assertArrayEquals(new byte[] {127, -64, 32, 32, 64, -127}, q.values());
    WeightQuant cols = QuantMath.quantizeWeights(w, 2, 3, 1, true, false);
    assertEquals(3, cols.scales().length);
    assertEquals(0.4f / 127, cols.scales()[2], 1e-9f);
    WeightQuant perTensor = QuantMath.quantizeWeights(w, 2, 3, 0, false, false);
    assertArrayEquals(new float[] {1f / 127}, perTensor.scales(), 1e-9f);
    assertEquals(13, perTensor.values()[3]); // 0.1 * 127 = 12.7 -> 13
  }

  @Test
  void reduce_range_uses_seven_bits() {
    WeightQuant q = QuantMath.quantizeWeights(new float[] {2f, -2f, 1f, 0f}, 1, 4, 0, true, true);
    assertArrayEquals(new byte[] {64, -64, 32, 0}, q.values());
    assertEquals(2f / 64, q.scales()[0], 1e-9f);
  }

  @Test
  void all_zero_channel_keeps_zero_point_zero() {
    WeightQuant q = QuantMath.quantizeWeights(new float[] {0f, 0f, 1f, -1f}, 2, 2, 0, true, false);
    assertArrayEquals(new byte[] {0, 0, 127, -127}, q.values());
    assertEquals(1f, q.scales()[0]);
  }

  @Test
  void bias_uses_the_product_of_scales_and_saturates() {
    assertEquals(250, QuantMath.quantizeBias(0.5f, 0.002f));
    assertEquals(Integer.MAX_VALUE, QuantMath.quantizeBias(1e9f, 1e-9f));
    assertEquals(2, QuantMath.quantizeBias(2.5f, 1f));
  }

  @Test
  void rejects_inverted_ranges() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> QuantMath.asymmetric(1, -1, 0, 255));
    assertEquals("range : [1.0, -1.0] (expected: min <= max)", e.getMessage());
  }
}
