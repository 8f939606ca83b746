package ai.distill.gateway.protocol;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;

/**
 * The tensor datatypes of the Open Inference Protocol v2, with their element sizes and their mapping to
 * ONNX Runtime's Java types. ORT Java can create tensors of BOOL, UINT8, INT8, INT16, INT32, INT64, FP16,
 * FP32 and FP64 from buffers; UINT16, UINT32 and UINT64 exist in models but not in ORT Java's API. BYTES is
 * variable-length and is not served.
 */
public enum Datatype {
    BOOL(1), UINT8(1), UINT16(2), UINT32(4), UINT64(8), INT8(1), INT16(2), INT32(4), INT64(8),
    FP16(2), FP32(4), FP64(8), BYTES(-1);

    private static final String NAMES = "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES";

    private final int byteSize;

    Datatype(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element in binary form (BOOL is one byte 0/1); -1 for the variable-length BYTES. */
    public int byteSize() {
        return byteSize;
    }

    /** True for FP16, FP32 and FP64. */
    public boolean isFloatingPoint() {
        return this == FP16 || this == FP32 || this == FP64;
    }

    /** True for the signed and unsigned integer types (not BOOL). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64 -> true;
            default -> false;
        };
    }

    /**
     * The datatype named by an OIP {@code datatype} string (exact, upper case).
     *
     * @throws BadInputException when the name is not an OIP datatype
     */
    public static Datatype parse(String name) {
        if (name != null) {
            switch (name) {
                case "BOOL": return BOOL;
                case "UINT8": return UINT8;
                case "UINT16": return UINT16;
                case "UINT32": return UINT32;
                case "UINT64": return UINT64;
                case "INT8": return INT8;
                case "INT16": return INT16;
                case "INT32": return INT32;
                case "INT64": return INT64;
                case "FP16": return FP16;
                case "FP32": return FP32;
                case "FP64": return FP64;
                case "BYTES": return BYTES;
                default: break;
            }
        }
        throw new BadInputException("unknown datatype " + (name == null ? "null" : "'" + name + "'")
                + " (expected one of " + NAMES + ")");
    }

    /**
     * The datatype of an ORT Java type.
     *
     * @throws IllegalArgumentException for BFLOAT16 and UNKNOWN, which OIP cannot carry
     */
    public static Datatype fromOnnx(OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> FP32;
            case DOUBLE -> FP64;
            case INT8 -> INT8;
            case INT16 -> INT16;
            case INT32 -> INT32;
            case INT64 -> INT64;
            case BOOL -> BOOL;
            case STRING -> BYTES;
            case UINT8 -> UINT8;
            case FLOAT16 -> FP16;
            default -> throw new IllegalArgumentException("ONNX Runtime type " + type + " has no Open Inference Protocol datatype");
        };
    }

    /**
     * The datatype of an ONNX tensor element type; unlike {@link OnnxJavaType} this distinguishes the
     * unsigned types, so prefer it for model signatures.
     *
     * @throws IllegalArgumentException for element types OIP cannot carry (BFLOAT16, FLOAT8, complex)
     */
    public static Datatype fromOnnx(TensorInfo.OnnxTensorType type) {
        return switch (type) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> FP32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> FP64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> FP16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> BYTES;
            default -> throw new IllegalArgumentException("ONNX element type " + type + " has no Open Inference Protocol datatype");
        };
    }

    /** The datatype of a model input or output as ORT reports it. */
    public static Datatype fromOnnx(TensorInfo info) {
        return fromOnnx(info.onnxType);
    }

    /**
     * The ORT Java type to build tensors of this datatype with.
     *
     * @throws UnsupportedOperationException for UINT16, UINT32 and UINT64, which ORT Java cannot create
     */
    public OnnxJavaType toOnnx() {
        return switch (this) {
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
            case UINT16, UINT32, UINT64 -> throw new UnsupportedOperationException(
                    "ONNX Runtime Java cannot create " + this + " tensors");
        };
    }
}
