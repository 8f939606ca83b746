package ai.distill.gateway.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTest {

  private static final Tensor T = Tensor.ofFloats("dense", new long[] {3, 2}, 1, 2, 3, 4, 5, 6);

  @Test
  void reports_shape_rows_and_sizes() {
    assertArrayEquals(new long[] {3, 2}, T.shape());
    assertEquals(3, T.rows());
    assertEquals(2, T.rowElements());
    assertEquals(8, T.rowBytes());
    assertEquals(6, T.elementCount());
    assertEquals(24, T.byteSize());
    assertEquals(ByteOrder.nativeOrder(), T.data().order());
    assertFalse(T.isDirect());
    assertEquals(1, Tensor.ofFloats("s", new long[0], 7).rows());
  }

  @Test
  void slices_rows_without_copying() {
    Tensor mid = T.sliceRows(1, 3);
    assertArrayEquals(new long[] {2, 2}, mid.shape());
    assertEquals(Tensor.ofFloats("dense", new long[] {2, 2}, 3, 4, 5, 6), mid);
    assertEquals(5f, mid.floats().get(2));
    assertSame(T, T.sliceRows(0, 3));
    assertEquals(0, T.sliceRows(2, 2).elementCount());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> T.sliceRows(2, 4));
    assertEquals("rows : [2, 4) (expected: within [0, 3])", e.getMessage());
  }

  @Test
  void stacks_rows_into_one_direct_buffer() {
    Tensor a = Tensor.ofLongs("ids", new long[] {1, 2}, 1, 2);
    Tensor b = Tensor.ofLongs("ids", new long[] {2, 2}, 3, 4, 5, 6);
    Tensor s = Tensor.concatRows("ids", List.of(a, b), true);
    assertTrue(s.isDirect());
    assertEquals(Tensor.ofLongs("ids", new long[] {3, 2}, 1, 2, 3, 4, 5, 6), s);
    assertEquals(b, s.sliceRows(1, 3));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Tensor.concatRows(
                    "ids", List.of(a, Tensor.ofLongs("ids", new long[] {1, 3}, 1, 2, 3)), false));
    assertEquals(
        "tensor INT64 [1, 3] (expected: INT64 [*, 2] to stack with the first part)",
        e.getMessage());
  }

  @Test
  void stacks_rows_into_a_caller_buffer_and_refuses_one_too_small() {
    Tensor a = Tensor.ofFloats("x", new long[] {1, 2}, 1, 2);
    Tensor b = Tensor.ofFloats("x", new long[] {1, 2}, 3, 4);
    ByteBuffer staging = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
    Tensor s = Tensor.concatRows("x", List.of(a, b), bytes -> staging.duplicate());
    assertEquals(Tensor.ofFloats("x", new long[] {2, 2}, 1, 2, 3, 4), s);
    assertEquals(16, s.data().remaining());
    assertEquals(3f, staging.getFloat(8)); // written in place, not copied elsewhere
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> Tensor.concatRows("x", List.of(a, b), bytes -> ByteBuffer.allocateDirect(8)));
    assertEquals("target buffer holds 8 bytes, 16 needed", e.getMessage());
  }

  @Test
  void checks_the_payload_size_and_order() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Tensor.of(
                    "x",
                    Datatype.FP32,
                    new long[] {2},
                    ByteBuffer.allocate(4).order(ByteOrder.nativeOrder())));
    assertEquals("data : 4 bytes (expected: 8 for FP32 [2])", e.getMessage());
    ByteOrder other =
        ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
            ? ByteOrder.BIG_ENDIAN
            : ByteOrder.LITTLE_ENDIAN;
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Tensor.of("x", Datatype.FP32, new long[] {1}, ByteBuffer.allocate(4).order(other)));
    assertEquals(
        "data order : " + other + " (expected: native " + ByteOrder.nativeOrder() + ")",
        e.getMessage());
  }

  @Test
  void reads_elements_of_every_type() {
    assertEquals(255, Tensor.ofBytes("u", Datatype.UINT8, new long[] {1}, (byte) -1).getDouble(0));
    assertEquals(-1, Tensor.ofBytes("i", Datatype.INT8, new long[] {1}, (byte) -1).getDouble(0));
    assertEquals(
        4294967295.0, Tensor.ofInts("u", Datatype.UINT32, new long[] {1}, -1).getDouble(0));
    assertEquals(
        18446744073709551615.0,
        Tensor.ofLongs("u", Datatype.UINT64, new long[] {1}, -1).getDouble(0));
    assertEquals(-1L, Tensor.ofLongs("u", Datatype.UINT64, new long[] {1}, -1).getLong(0));
    assertEquals(
        1.0, Tensor.ofShorts("h", Datatype.FP16, new long[] {1}, (short) 0x3c00).getDouble(0));
    assertThrows(IndexOutOfBoundsException.class, () -> T.getDouble(6));
  }

  @Test
  void converts_half_floats_with_round_half_to_even() {
    assertEquals((short) 0x3c00, HalfFloat.fromFloat(1.0f));
    assertEquals((short) 0x7bff, HalfFloat.fromFloat(65504f));
    assertEquals((short) 0x7c00, HalfFloat.fromFloat(65520f)); // rounds up to infinity
    assertEquals((short) 0x7bff, HalfFloat.fromFloat(65519f));
    assertEquals((short) 0x0001, HalfFloat.fromFloat(0x1p-24f));
    assertEquals((short) 0x0000, HalfFloat.fromFloat(0x1p-25f)); // tie to even (0)
    assertEquals((short) 0x3c00, HalfFloat.fromFloat(1.0f + 0x1p-11f)); // tie to even
    assertEquals((short) 0x3c02, HalfFloat.fromFloat(1.0f + 3 * 0x1p-11f)); // tie to even, up
    assertTrue(Float.isNaN(HalfFloat.toFloat(HalfFloat.fromFloat(Float.NaN))));
    for (int bits = 0; bits < 0x10000; bits++) {
      float f = HalfFloat.toFloat((short) bits);
      if (!Float.isNaN(f))
        assertEquals((short) bits, HalfFloat.fromFloat(f), "bits " + Integer.toHexString(bits));
    }
  }

  @Test
  void maps_datatypes_to_and_from_onnx_runtime() {
    for (Datatype dt : Datatype.values()) {
      assertEquals(dt, Datatype.parse(dt.name()));
      if (dt != Datatype.UINT16 && dt != Datatype.UINT32 && dt != Datatype.UINT64) {
        assertEquals(dt, OrtTypes.datatype(OrtTypes.javaType(dt)));
      }
    }
    assertEquals(Datatype.FP32, OrtTypes.datatype(OnnxJavaType.FLOAT));
    assertEquals(
        Datatype.UINT32,
        OrtTypes.datatype(TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32));
    assertEquals(4, Datatype.FP32.byteSize());
    assertEquals(1, Datatype.BOOL.byteSize());
    assertEquals(-1, Datatype.BYTES.byteSize());
    for (Datatype dt : Datatype.values()) {
      assertEquals(dt, Datatype.fromOnnxElementType(dt.onnxElementType()));
    }
    assertThrows(UnsupportedOperationException.class, () -> OrtTypes.javaType(Datatype.UINT64));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> OrtTypes.datatype(OnnxJavaType.BFLOAT16));
    assertEquals(
        "ONNX Runtime type BFLOAT16 has no Open Inference Protocol datatype", e.getMessage());
    IllegalArgumentException b =
        assertThrows(IllegalArgumentException.class, () -> Datatype.parse("fp32"));
    assertEquals(
        "unknown datatype 'fp32' (expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)",
        b.getMessage());
  }

  @Test
  void tensor_spec_accepts_matching_shapes() {
    TensorSpec s = new TensorSpec("dense", Datatype.FP32, new long[] {-1, 13});
    assertTrue(s.batched());
    assertTrue(s.accepts(new long[] {5, 13}));
    assertFalse(s.accepts(new long[] {5, 12}));
    assertFalse(s.accepts(new long[] {13}));
    assertEquals("'dense' FP32 [-1, 13]", s.toString());
    assertEquals(s, new TensorSpec("dense", Datatype.FP32, new long[] {-1, 13}));
  }
}
