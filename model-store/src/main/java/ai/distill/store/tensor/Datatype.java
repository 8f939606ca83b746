package ai.distill.store.tensor;

/**
 * The tensor datatypes of the project, named as the Open Inference Protocol v2 names them, with
 * their element sizes and their ONNX {@code TensorProto.DataType} element-type numbers. ONNX
 * element types that OIP cannot carry (BFLOAT16, FLOAT8, complex, UNDEFINED) have no datatype here.
 * Immutable.
 */
public enum Datatype {
  BOOL(1, 9),
  UINT8(1, 2),
  UINT16(2, 4),
  UINT32(4, 12),
  UINT64(8, 13),
  INT8(1, 3),
  INT16(2, 5),
  INT32(4, 6),
  INT64(8, 7),
  FP16(2, 10),
  FP32(4, 1),
  FP64(8, 11),
  BYTES(-1, 8);

  private static final String NAMES =
      "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES";

  private final int byteSize;
  private final int onnxElementType;

  Datatype(int byteSize, int onnxElementType) {
    this.byteSize = byteSize;
    this.onnxElementType = onnxElementType;
  }

  /** Bytes per element in binary form (BOOL is one byte 0/1); -1 for the variable-length BYTES. */
  public int byteSize() {
    return byteSize;
  }

  /**
   * The ONNX {@code TensorProto.DataType} number of this datatype (FP32 is 1, INT64 is 7, BYTES is
   * STRING, 8).
   */
  public int onnxElementType() {
    return onnxElementType;
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
   * @throws IllegalArgumentException when the name is not a datatype; the message names the valid
   *     ones
   */
  public static Datatype parse(String name) {
    if (name != null) {
      switch (name) {
        case "BOOL":
          return BOOL;
        case "UINT8":
          return UINT8;
        case "UINT16":
          return UINT16;
        case "UINT32":
          return UINT32;
        case "UINT64":
          return UINT64;
        case "INT8":
          return INT8;
        case "INT16":
          return INT16;
        case "INT32":
          return INT32;
        case "INT64":
          return INT64;
        case "FP16":
          return FP16;
        case "FP32":
          return FP32;
        case "FP64":
          return FP64;
        case "BYTES":
          return BYTES;
        default:
          break;
      }
    }
    throw new IllegalArgumentException(
        "unknown datatype "
            + (name == null ? "null" : "'" + name + "'")
            + " (expected one of "
            + NAMES
            + ")");
  }

  /**
   * The datatype of an ONNX {@code TensorProto.DataType} element-type number.
   *
   * @throws IllegalArgumentException for element types OIP cannot carry (UNDEFINED, BFLOAT16,
   *     FLOAT8, complex)
   */
  public static Datatype fromOnnxElementType(int elementType) {
    for (Datatype d : values()) {
      if (d.onnxElementType == elementType) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "ONNX element type " + elementType + " has no Open Inference Protocol datatype");
  }
}
