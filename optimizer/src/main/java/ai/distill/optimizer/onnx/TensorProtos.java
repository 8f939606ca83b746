package ai.distill.optimizer.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Builds initializer {@link TensorProto}s from Java arrays (always as little-endian {@code
 * raw_data}) and reads them back, accepting both {@code raw_data} and the typed repeated fields
 * exporters use. Stateless and thread-safe.
 */
public final class TensorProtos {

  private TensorProtos() {}

  public static TensorProto floats(String name, float[] values, long... dims) {
    checkCount(name, values.length, dims);
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return raw(name, DataType.FLOAT, b.array(), dims);
  }

  public static TensorProto longs(String name, long[] values, long... dims) {
    checkCount(name, values.length, dims);
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return raw(name, DataType.INT64, b.array(), dims);
  }

  public static TensorProto ints(String name, int[] values, long... dims) {
    checkCount(name, values.length, dims);
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return raw(name, DataType.INT32, b.array(), dims);
  }

  /** INT8 tensor; each byte is the signed value. */
  public static TensorProto int8(String name, byte[] values, long... dims) {
    checkCount(name, values.length, dims);
    return raw(name, DataType.INT8, values.clone(), dims);
  }

  /** UINT8 tensor; each byte holds the unsigned value (0..255). */
  public static TensorProto uint8(String name, byte[] values, long... dims) {
    checkCount(name, values.length, dims);
    return raw(name, DataType.UINT8, values.clone(), dims);
  }

  private static TensorProto raw(String name, DataType type, byte[] data, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(data)).build();
  }

  private static void checkCount(String name, int count, long[] dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException(
            name + ": dims " + Arrays.toString(dims) + " (expected: >= 0)");
      }
      n *= d;
    }
    if (n != count) {
      throw new IllegalArgumentException(
          name
              + ": "
              + count
              + " values for dims "
              + Arrays.toString(dims)
              + " (expected: "
              + n
              + ")");
    }
  }

  public static DataType type(TensorProto t) {
    DataType d = DataType.forNumber(t.getDataType());
    return d == null ? DataType.UNDEFINED : d;
  }

  public static long elementCount(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    return n;
  }

  public static long[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }

  private static ByteBuffer rawData(TensorProto t) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new OnnxFormatException(
          "tensor '"
              + t.getName()
              + "' uses external data, which is not supported;"
              + " re-export the model with the weights inside the .onnx file");
    }
    return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The values of a FLOAT, DOUBLE or integer tensor as floats. */
  public static float[] toFloats(TensorProto t) {
    int n = Math.toIntExact(elementCount(t));
    float[] out = new float[n];
    DataType type = type(t);
    if (!t.getRawData().isEmpty()) {
      ByteBuffer b = rawData(t);
      switch (type) {
        case FLOAT -> b.asFloatBuffer().get(out);
        case DOUBLE -> {
          for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8);
        }
        default -> {
          long[] l = toLongs(t);
          for (int i = 0; i < n; i++) out[i] = l[i];
        }
      }
      return out;
    }
    switch (type) {
      case FLOAT -> {
        for (int i = 0; i < n; i++) out[i] = t.getFloatData(i);
      }
      case DOUBLE -> {
        for (int i = 0; i < n; i++) out[i] = (float) t.getDoubleData(i);
      }
      default -> {
        long[] l = toLongs(t);
        for (int i = 0; i < n; i++) out[i] = l[i];
      }
    }
    return out;
  }

  /** The values of an integer (or bool) tensor as longs; UINT8 values are read unsigned. */
  public static long[] toLongs(TensorProto t) {
    int n = Math.toIntExact(elementCount(t));
    long[] out = new long[n];
    DataType type = type(t);
    if (!t.getRawData().isEmpty()) {
      ByteBuffer b = rawData(t);
      for (int i = 0; i < n; i++) {
        out[i] =
            switch (type) {
              case INT64 -> b.getLong(i * 8);
              case UINT64 -> b.getLong(i * 8);
              case INT32 -> b.getInt(i * 4);
              case UINT32 -> Integer.toUnsignedLong(b.getInt(i * 4));
              case INT16 -> b.getShort(i * 2);
              case UINT16 -> Short.toUnsignedInt(b.getShort(i * 2));
              case INT8 -> b.get(i);
              case UINT8, BOOL -> Byte.toUnsignedInt(b.get(i));
              default ->
                  throw new IllegalArgumentException(
                      "tensor '"
                          + t.getName()
                          + "' has type "
                          + type
                          + " (expected: an integer type)");
            };
      }
      return out;
    }
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (type) {
            case INT64 -> t.getInt64Data(i);
            case UINT64, UINT32 -> t.getUint64Data(i);
            case INT32, INT16, INT8, UINT16, UINT8, BOOL -> t.getInt32Data(i);
            default ->
                throw new IllegalArgumentException(
                    "tensor '"
                        + t.getName()
                        + "' has type "
                        + type
                        + " (expected: an integer type)");
          };
    }
    return out;
  }

  /** Serialized size of the tensor's payload in bytes. */
  public static long payloadBytes(TensorProto t) {
    return t.getSerializedSize();
  }
}
