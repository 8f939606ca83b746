package ai.distill.gateway.tensor;

import ai.distill.store.tensor.Datatype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * A named tensor: datatype, shape and its elements packed row-major in a NATIVE-ORDER {@link
 * ByteBuffer} (BOOL is one byte 0/1, FP16 two bytes of binary16 bits). The buffer is heap-backed
 * when it comes from {@link InferRequestDecoder} (cheap to allocate per request) and direct when
 * made by {@link #concatRows(String, List, boolean) concatRows(..., true)} or {@link #toDirect()},
 * which is what ORT uses without another copy.
 *
 * <p>Immutable in shape; the element bytes are shared by {@link #sliceRows slices} and must not be
 * modified once the tensor is handed to others. Safe to read from several threads.
 *
 * <pre>{@code
 * Tensor dense = Tensor.ofFloats("dense", new long[] {2, 13}, values);
 * Tensor first = dense.sliceRows(0, 1);          // a view, no copy
 * Tensor batch = Tensor.concatRows("dense", List.of(a, b), true); // one copy into a direct buffer
 * OnnxTensor.createTensor(env, batch.floats(), batch.shape());
 * }</pre>
 */
public final class Tensor {

  /** Largest payload a tensor can hold: one {@link ByteBuffer}. */
  public static final long MAX_BYTES = Integer.MAX_VALUE - 16;

  private final String name;
  private final Datatype datatype;
  private final long[] shape;
  private final long elementCount;
  private final ByteBuffer data; // position 0, limit = byteSize, native order

  private Tensor(String name, Datatype datatype, long[] shape, long elementCount, ByteBuffer data) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
    this.elementCount = elementCount;
    this.data = data;
  }

  /**
   * A tensor over {@code data}'s remaining bytes, which must be exactly product(shape) × element
   * size, in native order (the buffer is not copied: do not modify it afterwards).
   *
   * @throws IllegalArgumentException on a size or order mismatch, a negative dimension or BYTES
   */
  public static Tensor of(String name, Datatype datatype, long[] shape, ByteBuffer data) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(datatype, "datatype");
    if (datatype == Datatype.BYTES) {
      throw new IllegalArgumentException("datatype : BYTES (expected: a fixed-size datatype)");
    }
    if (data.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException(
          "data order : " + data.order() + " (expected: native " + ByteOrder.nativeOrder() + ")");
    }
    long[] s = shape.clone();
    long count = elementCount(s);
    if (count < 0) {
      throw new IllegalArgumentException(
          "shape : "
              + Arrays.toString(s)
              + " (expected: dimensions >= 0 and at most "
              + MAX_BYTES
              + " bytes)");
    }
    long bytes = count * datatype.byteSize();
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          "shape : " + Arrays.toString(s) + " (expected: at most " + MAX_BYTES + " bytes)");
    }
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException(
          "data : "
              + data.remaining()
              + " bytes (expected: "
              + bytes
              + " for "
              + datatype
              + " "
              + Arrays.toString(s)
              + ")");
    }
    return new Tensor(name, datatype, s, count, data.slice().order(ByteOrder.nativeOrder()));
  }

  /**
   * product(shape), or -1 when a dimension is negative or the product overflows {@link #MAX_BYTES}.
   */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) return -1;
      if (d != 0 && n > MAX_BYTES / d) return -1;
      n *= d;
    }
    return n;
  }

  /** Allocates a native-order buffer of {@code bytes} bytes, direct or on the heap. */
  public static ByteBuffer allocate(long bytes, boolean direct) {
    if (bytes < 0 || bytes > MAX_BYTES) {
      throw new IllegalArgumentException("bytes : " + bytes + " (expected: 0.." + MAX_BYTES + ")");
    }
    ByteBuffer b =
        direct ? ByteBuffer.allocateDirect((int) bytes) : ByteBuffer.allocate((int) bytes);
    return b.order(ByteOrder.nativeOrder());
  }

  /** An FP32 tensor holding a copy of {@code values}. */
  public static Tensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer b = allocate(4L * values.length, false);
    b.asFloatBuffer().put(values);
    return of(name, Datatype.FP32, shape, b);
  }

  /** An FP64 tensor holding a copy of {@code values}. */
  public static Tensor ofDoubles(String name, long[] shape, double... values) {
    ByteBuffer b = allocate(8L * values.length, false);
    b.asDoubleBuffer().put(values);
    return of(name, Datatype.FP64, shape, b);
  }

  /** An INT32 (or UINT32) tensor holding a copy of {@code values}. */
  public static Tensor ofInts(String name, Datatype datatype, long[] shape, int... values) {
    requireSize(datatype, 4);
    ByteBuffer b = allocate(4L * values.length, false);
    b.asIntBuffer().put(values);
    return of(name, datatype, shape, b);
  }

  /** An INT32 tensor holding a copy of {@code values}. */
  public static Tensor ofInts(String name, long[] shape, int... values) {
    return ofInts(name, Datatype.INT32, shape, values);
  }

  /** An INT64 tensor holding a copy of {@code values}. */
  public static Tensor ofLongs(String name, long[] shape, long... values) {
    return ofLongs(name, Datatype.INT64, shape, values);
  }

  /** An INT64 (or UINT64, values as unsigned bits) tensor holding a copy of {@code values}. */
  public static Tensor ofLongs(String name, Datatype datatype, long[] shape, long... values) {
    requireSize(datatype, 8);
    ByteBuffer b = allocate(8L * values.length, false);
    b.asLongBuffer().put(values);
    return of(name, datatype, shape, b);
  }

  /** An INT16, UINT16 or FP16 (binary16 bits) tensor holding a copy of {@code values}. */
  public static Tensor ofShorts(String name, Datatype datatype, long[] shape, short... values) {
    requireSize(datatype, 2);
    ByteBuffer b = allocate(2L * values.length, false);
    b.asShortBuffer().put(values);
    return of(name, datatype, shape, b);
  }

  /** An INT8, UINT8 or BOOL (0/1) tensor holding a copy of {@code values}. */
  public static Tensor ofBytes(String name, Datatype datatype, long[] shape, byte... values) {
    requireSize(datatype, 1);
    ByteBuffer b = allocate(values.length, false);
    b.put(values).flip();
    return of(name, datatype, shape, b);
  }

  /** A BOOL tensor of {@code values}. */
  public static Tensor ofBooleans(String name, long[] shape, boolean... values) {
    byte[] bytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) bytes[i] = (byte) (values[i] ? 1 : 0);
    return ofBytes(name, Datatype.BOOL, shape, bytes);
  }

  private static void requireSize(Datatype datatype, int size) {
    if (datatype.byteSize() != size) {
      throw new IllegalArgumentException(
          "datatype : " + datatype + " (expected: a " + size + "-byte datatype)");
    }
  }

  /** The tensor's name. */
  public String name() {
    return name;
  }

  /** The element datatype. */
  public Datatype datatype() {
    return datatype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** The rank, {@code shape().length}. */
  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /** product(shape). */
  public long elementCount() {
    return elementCount;
  }

  /** Payload size in bytes: elementCount × element size. */
  public int byteSize() {
    return data.capacity();
  }

  /** True when the payload is in a direct buffer (ORT then uses it without a copy). */
  public boolean isDirect() {
    return data.isDirect();
  }

  /**
   * The payload: a new native-order view (position 0, limit {@link #byteSize()}) sharing the
   * tensor's bytes. Do not write to it.
   */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.nativeOrder());
  }

  /** The payload as floats (FP32 only); direct when the tensor is. */
  public FloatBuffer floats() {
    requireType(Datatype.FP32);
    return data().asFloatBuffer();
  }

  /** The payload as doubles (FP64 only). */
  public DoubleBuffer doubles() {
    requireType(Datatype.FP64);
    return data().asDoubleBuffer();
  }

  /** The payload as ints (INT32 or UINT32). */
  public IntBuffer ints() {
    requireSize(datatype, 4);
    if (datatype == Datatype.FP32) requireType(Datatype.INT32);
    return data().asIntBuffer();
  }

  /** The payload as longs (INT64 or UINT64). */
  public LongBuffer longs() {
    requireSize(datatype, 8);
    if (datatype == Datatype.FP64) requireType(Datatype.INT64);
    return data().asLongBuffer();
  }

  /** The payload as shorts (INT16, UINT16 or FP16 bits). */
  public ShortBuffer shorts() {
    requireSize(datatype, 2);
    return data().asShortBuffer();
  }

  private void requireType(Datatype expected) {
    if (datatype != expected) {
      throw new IllegalStateException("tensor '" + name + "' is " + datatype + ", not " + expected);
    }
  }

  /** Dimension 0, the batch rows; 1 for a scalar. */
  public long rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  /** Elements per row: product of the dimensions after the first (1 for rank ≤ 1). */
  public long rowElements() {
    long n = 1;
    for (int i = 1; i < shape.length; i++) n *= shape[i];
    return n;
  }

  /** Bytes per row. */
  public long rowBytes() {
    return rowElements() * datatype.byteSize();
  }

  /**
   * Rows [from, to) along dimension 0 as a view sharing this tensor's bytes (no copy).
   *
   * @throws IllegalArgumentException when the range is not within [0, rows()] or the tensor is a
   *     scalar
   */
  public Tensor sliceRows(long from, long to) {
    if (shape.length == 0) {
      throw new IllegalArgumentException("tensor '" + name + "' is a scalar and has no rows");
    }
    if (from < 0 || to < from || to > shape[0]) {
      throw new IllegalArgumentException(
          "rows : [" + from + ", " + to + ") (expected: within [0, " + shape[0] + "])");
    }
    if (from == 0 && to == shape[0]) return this;
    long rowBytes = rowBytes();
    long[] s = shape.clone();
    s[0] = to - from;
    ByteBuffer view =
        data.slice((int) (from * rowBytes), (int) ((to - from) * rowBytes))
            .order(ByteOrder.nativeOrder());
    return new Tensor(name, datatype, s, s[0] * rowElements(), view);
  }

  /**
   * Stacks tensors along dimension 0 into one new tensor named {@code name}: one copy into a fresh
   * buffer, direct when asked (what the batcher hands ORT). All parts must share datatype, rank and
   * the dimensions after the first.
   *
   * @throws IllegalArgumentException when the parts do not stack
   */
  public static Tensor concatRows(String name, List<Tensor> parts, boolean direct) {
    return concatRows(name, parts, n -> allocate(n, direct));
  }

  /**
   * Stacks tensors along dimension 0 like {@link #concatRows(String, List, boolean)}, into the
   * buffer {@code target} returns for the total byte size: a native-order buffer with position 0
   * and at least that many bytes remaining (a reused staging buffer, for instance).
   */
  public static Tensor concatRows(
      String name, List<Tensor> parts, LongFunction<ByteBuffer> target) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("parts : [] (expected: at least one tensor)");
    }
    Tensor first = parts.get(0);
    if (first.rank() == 0) {
      throw new IllegalArgumentException(
          "tensor '" + first.name + "' is a scalar and cannot be stacked");
    }
    long rows = 0;
    long bytes = 0;
    for (Tensor t : parts) {
      if (t.datatype != first.datatype
          || t.rank() != first.rank()
          || !Arrays.equals(t.shape, 1, t.shape.length, first.shape, 1, first.shape.length)) {
        throw new IllegalArgumentException(
            "tensor "
                + t.datatype
                + " "
                + Arrays.toString(t.shape)
                + " (expected: "
                + first.datatype
                + " [*"
                + tail(first.shape)
                + "] to stack with the first part)");
      }
      rows += t.shape[0];
      bytes += t.byteSize();
    }
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          "stacked bytes : " + bytes + " (expected: at most " + MAX_BYTES + ")");
    }
    ByteBuffer out = target.apply(bytes).slice().order(ByteOrder.nativeOrder());
    if (out.remaining() < bytes) {
      throw new IllegalStateException(
          "target buffer holds " + out.remaining() + " bytes, " + bytes + " needed");
    }
    out.limit((int) bytes);
    for (Tensor t : parts) {
      out.put(t.data());
    }
    out.flip();
    long[] s = first.shape.clone();
    s[0] = rows;
    return new Tensor(name, first.datatype, s, rows * first.rowElements(), out);
  }

  private static String tail(long[] shape) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < shape.length; i++) sb.append(", ").append(shape[i]);
    return sb.toString();
  }

  /** This tensor with its payload in a direct buffer ({@code this} when it already is). */
  public Tensor toDirect() {
    if (data.isDirect()) return this;
    ByteBuffer out = allocate(data.capacity(), true);
    out.put(data()).flip();
    return new Tensor(name, datatype, shape, elementCount, out);
  }

  /** The same tensor under another name (shares the bytes). */
  public Tensor withName(String newName) {
    return new Tensor(
        Objects.requireNonNull(newName, "newName"), datatype, shape, elementCount, data);
  }

  /** Element {@code i} (flat, row-major) as a double; UINT64 above 2^63 is converted unsigned. */
  public double getDouble(long i) {
    int idx = checkIndex(i);
    return switch (datatype) {
      case BOOL, INT8 -> data.get(idx);
      case UINT8 -> data.get(idx) & 0xff;
      case INT16 -> data.getShort(idx * 2);
      case UINT16 -> data.getShort(idx * 2) & 0xffff;
      case INT32 -> data.getInt(idx * 4);
      case UINT32 -> data.getInt(idx * 4) & 0xffffffffL;
      case INT64 -> data.getLong(idx * 8);
      case UINT64 -> unsignedToDouble(data.getLong(idx * 8));
      case FP16 -> HalfFloat.toFloat(data.getShort(idx * 2));
      case FP32 -> data.getFloat(idx * 4);
      case FP64 -> data.getDouble(idx * 8);
      case BYTES -> throw new IllegalStateException("BYTES");
    };
  }

  /**
   * Element {@code i} as a long: integers and BOOL exactly (UINT64 as its unsigned bits), floats
   * truncated.
   */
  public long getLong(long i) {
    int idx = checkIndex(i);
    return switch (datatype) {
      case INT64, UINT64 -> data.getLong(idx * 8);
      case FP16, FP32, FP64 -> (long) getDouble(i);
      default -> (long) getDouble(i);
    };
  }

  private static double unsignedToDouble(long v) {
    return v >= 0 ? v : ((v >>> 1) | (v & 1)) * 2.0;
  }

  private int checkIndex(long i) {
    if (i < 0 || i >= elementCount) {
      throw new IndexOutOfBoundsException(
          "index " + i + " (expected: 0.." + (elementCount - 1) + ")");
    }
    return (int) i;
  }

  /** Same name, datatype, shape and bytes. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && name.equals(t.name)
        && datatype == t.datatype
        && Arrays.equals(shape, t.shape)
        && data.equals(t.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, datatype, Arrays.hashCode(shape), data);
  }

  /** {@code Tensor['dense' FP32 [2, 13]]}. */
  @Override
  public String toString() {
    return "Tensor['" + name + "' " + datatype + " " + Arrays.toString(shape) + "]";
  }
}
