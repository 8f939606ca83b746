package ai.distill.optimizer.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @Test
  void mlp_loads_in_ort_and_outputs_probabilities() throws Exception {
    OnnxModel m = TinyModels.mlp(4, new int[] {8, 4}, 1);
    try (OrtSession s = ENV.createSession(m.toBytes());
        OnnxTensor x = OnnxTensor.createTensor(ENV, new float[][] {{1, 2, 3, 4}, {-1, 0, 1, 0}});
        OrtSession.Result r = s.run(Map.of("x", x))) {
      float[][] p = (float[][]) r.get("prob").get().getValue();
      assertEquals(2, p.length);
      for (float[] row : p) {
        assertTrue(row[0] > 0 && row[0] < 1, "probability " + row[0]);
      }
    }
    assertEquals(List.of(new TensorSpec("x", Datatype.FP32, new long[] {-1, 4})), m.inputs());
    assertEquals(17, m.opsetVersion());
  }

  @Test
  void hand_written_gemm_computes_the_expected_value() throws Exception {
    byte[] bytes =
        GraphBuilder.create("g")
            .input("x", DataType.FLOAT, -1, 2)
            .initializer("w", new float[] {1, 2}, 1, 2)
            .initializer("b", new float[] {0.5f}, 1)
            .gemm("x", "w", "b", "y", true)
            .output("y", DataType.FLOAT, -1, 1)
            .toBytes();
    try (OrtSession s = ENV.createSession(bytes);
        OnnxTensor x = OnnxTensor.createTensor(ENV, new float[][] {{3, 4}});
        OrtSession.Result r = s.run(Map.of("x", x))) {
      assertEquals(11.5f, ((float[][]) r.get("y").get().getValue())[0][0], 1e-6);
    }
  }

  @Test
  void datatypes_carry_the_onnx_element_type_numbers() {
    for (Datatype dt : Datatype.values()) {
      String onnxName =
          switch (dt) {
            case FP16 -> "FLOAT16";
            case FP32 -> "FLOAT";
            case FP64 -> "DOUBLE";
            case BYTES -> "STRING";
            default -> dt.name();
          };
      assertEquals(DataType.valueOf(onnxName).getNumber(), dt.onnxElementType(), dt.name());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> Datatype.fromOnnxElementType(DataType.BFLOAT16.getNumber()));
  }

  @Test
  void ctr_model_runs_in_ort() throws Exception {
    OnnxModel m = TinyModels.ctrModel(3, 2, 10, 4, new int[] {8}, 2);
    assertEquals(2, m.inputs().size());
    assertEquals(Datatype.INT64, m.inputs().get(1).datatype());
    try (OrtSession s = ENV.createSession(m.toBytes());
        OnnxTensor d = OnnxTensor.createTensor(ENV, new float[][] {{1, 2, 3}});
        OnnxTensor sp = OnnxTensor.createTensor(ENV, new long[][] {{0, 9}});
        OrtSession.Result r = s.run(Map.of("dense", d, "sparse", sp))) {
      float p = ((float[][]) r.get("prob").get().getValue())[0][0];
      assertTrue(p > 0 && p < 1);
    }
  }

  @Test
  void multi_types_model_sums_every_dtype() throws Exception {
    OnnxModel m = TinyModels.multiTypes(2);
    assertEquals(7, m.inputs().size());
    assertEquals(3, m.outputs().size());
    Map<String, OnnxTensor> in = new HashMap<>();
    try (OrtSession s = ENV.createSession(m.toBytes())) {
      long[] shape = {1, 2};
      in.put("f32", OnnxTensor.createTensor(ENV, new float[][] {{1, 2}}));
      in.put("f64", OnnxTensor.createTensor(ENV, new double[][] {{1, 2}}));
      in.put("i32", OnnxTensor.createTensor(ENV, new int[][] {{1, 2}}));
      in.put("i64", OnnxTensor.createTensor(ENV, new long[][] {{1, 2}}));
      in.put(
          "i8",
          OnnxTensor.createTensor(
              ENV, ByteBuffer.allocateDirect(2).put((byte) -1).put((byte) 2).rewind(), shape));
      in.put(
          "u8",
          OnnxTensor.createTensor(
              ENV,
              ByteBuffer.allocateDirect(2)
                  .order(ByteOrder.nativeOrder())
                  .put((byte) 200)
                  .put((byte) 2)
                  .rewind(),
              shape,
              OnnxJavaType.UINT8));
      in.put("flag", OnnxTensor.createTensor(ENV, new boolean[][] {{true, false}}));
      try (OrtSession.Result r = s.run(in)) {
        // 1+1+1+1-1+200+1 = 204 ; 2+2+2+2+2+2+0 = 12
        assertArrayEquals(new float[] {204, 12}, ((float[][]) r.get("sum").get().getValue())[0]);
        assertArrayEquals(
            new double[] {204, 12}, ((double[][]) r.get("sum_f64").get().getValue())[0]);
        assertArrayEquals(new long[] {204, 12}, ((long[][]) r.get("sum_i64").get().getValue())[0]);
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  @Test
  void round_trip_preserves_opset_metadata_and_value_infos(@TempDir Path dir) throws Exception {
    OnnxModel m =
        GraphBuilder.create("g")
            .opset(15)
            .metadata("owner", "distill")
            .input("x", DataType.FLOAT, -1, 3)
            .op("Relu", "x", "h")
            .valueInfo("h", DataType.FLOAT, -1, 3)
            .op("Identity", "h", "y")
            .output("y", DataType.FLOAT, -1, 3)
            .build();
    Path file = dir.resolve("m.onnx");
    m.save(file);
    OnnxModel back = OnnxModel.load(file);
    assertEquals(15, back.opsetVersion());
    assertEquals(Map.of("owner", "distill"), back.metadata());
    assertEquals("h", back.graph().getValueInfo(0).getName());
    assertEquals(m.proto(), back.proto());
    OnnxModel tagged = back.withMetadata("owner", "quant").withMetadata("k", "v");
    assertEquals(Map.of("owner", "quant", "k", "v"), tagged.metadata());
    assertEquals(15, tagged.opsetVersion());
    assertEquals(Map.of("Relu", 1, "Identity", 1), back.opCounts());
  }

  @Test
  void corrupt_bytes_are_an_onnx_format_exception(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.onnx");
    Files.write(file, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02});
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.load(file));
    assertTrue(
        e.getMessage().contains("bad.onnx") && e.getMessage().contains("not a valid ONNX model"),
        e.getMessage());
    Files.write(file, "just some text, not a model".getBytes());
    assertThrows(OnnxFormatException.class, () -> OnnxModel.load(file));
    assertThrows(OnnxFormatException.class, () -> OnnxModel.fromBytes(new byte[0]));
  }

  @Test
  void builder_rejects_duplicate_names_with_exact_message() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                GraphBuilder.create("g")
                    .input("x", DataType.FLOAT, -1, 1)
                    .initializer("x", new float[] {1}, 1));
    assertEquals("tensor name 'x' is defined twice (expected: unique names)", e.getMessage());
  }

  @Test
  void tensor_protos_round_trip_values() {
    assertArrayEquals(
        new float[] {1.5f, -2f},
        TensorProtos.toFloats(TensorProtos.floats("a", new float[] {1.5f, -2f}, 2)));
    assertArrayEquals(
        new long[] {-3, 1L << 40},
        TensorProtos.toLongs(TensorProtos.longs("b", new long[] {-3, 1L << 40}, 2)));
    assertArrayEquals(
        new long[] {-128, 127},
        TensorProtos.toLongs(TensorProtos.int8("c", new byte[] {-128, 127}, 2)));
    assertArrayEquals(
        new long[] {255, 0},
        TensorProtos.toLongs(TensorProtos.uint8("d", new byte[] {(byte) 255, 0}, 2)));
    assertThrows(
        IllegalArgumentException.class, () -> TensorProtos.floats("e", new float[3], 2, 2));
  }
}
