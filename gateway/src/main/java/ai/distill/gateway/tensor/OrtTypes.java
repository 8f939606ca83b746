package ai.distill.gateway.tensor;

import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;

/**
 * The mapping between the project's {@link Datatype}/{@link TensorSpec} and ONNX Runtime Java's
 * types. ORT Java can create tensors of BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, FP32 and FP64
 * from buffers; UINT16, UINT32 and UINT64 exist in models but not in ORT Java's API. Stateless.
 */
public final class OrtTypes {

  private OrtTypes() {}

  /**
   * A spec from the {@link TensorInfo} ORT reports for a session input or output (symbolic dims
   * become -1).
   */
  public static TensorSpec spec(String name, TensorInfo info) {
    long[] shape = info.getShape().clone();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) shape[i] = -1;
    }
    return new TensorSpec(name, datatype(info), shape);
  }

  /**
   * The datatype of an ORT Java type.
   *
   * @throws IllegalArgumentException for BFLOAT16 and UNKNOWN, which OIP cannot carry
   */
  public static Datatype datatype(OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> Datatype.FP32;
      case DOUBLE -> Datatype.FP64;
      case INT8 -> Datatype.INT8;
      case INT16 -> Datatype.INT16;
      case INT32 -> Datatype.INT32;
      case INT64 -> Datatype.INT64;
      case BOOL -> Datatype.BOOL;
      case STRING -> Datatype.BYTES;
      case UINT8 -> Datatype.UINT8;
      case FLOAT16 -> Datatype.FP16;
      default ->
          throw new IllegalArgumentException(
              "ONNX Runtime type " + type + " has no Open Inference Protocol datatype");
    };
  }

  /**
   * The datatype of an ONNX tensor element type; unlike {@link OnnxJavaType} this distinguishes the
   * unsigned types, so prefer it for model signatures.
   *
   * @throws IllegalArgumentException for element types OIP cannot carry (BFLOAT16, FLOAT8, complex)
   */
  public static Datatype datatype(TensorInfo.OnnxTensorType type) {
    return switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> Datatype.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> Datatype.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> Datatype.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> Datatype.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> Datatype.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> Datatype.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> Datatype.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> Datatype.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> Datatype.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> Datatype.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> Datatype.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> Datatype.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> Datatype.BYTES;
      default ->
          throw new IllegalArgumentException(
              "ONNX element type " + type + " has no Open Inference Protocol datatype");
    };
  }

  /** The datatype of a model input or output as ORT reports it. */
  public static Datatype datatype(TensorInfo info) {
    return datatype(info.onnxType);
  }

  /**
   * The ORT Java type to build tensors of a datatype with.
   *
   * @throws UnsupportedOperationException for UINT16, UINT32 and UINT64, which ORT Java cannot
   *     create
   */
  public static OnnxJavaType javaType(Datatype datatype) {
    return switch (datatype) {
      case BOOL -> OnnxJavaType.BOOL;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT8 -> OnnxJavaType.INT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case FP16 -> OnnxJavaType.FLOAT16;
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case BYTES -> OnnxJavaType.STRING;
      case UINT16, UINT32, UINT64 ->
          throw new UnsupportedOperationException(
              "ONNX Runtime Java cannot create " + datatype + " tensors");
    };
  }
}
