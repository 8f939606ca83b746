package ai.distill.gateway.protocol;

import static ai.distill.gateway.protocol.InferRequestDecoder.HEADER_LENGTH;

import ai.distill.gateway.protocol.BodyReader.PendingInput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The binary side of {@link BodyReader}: Triton's binary tensor data extension, the little-endian
 * tensor bytes that follow the JSON header ({@code Inference-Header-Content-Length}). Takes a
 * tensor's bytes out of the body as a zero-copy view or a native-order copy, and checks BOOL bytes.
 * Stateless.
 */
final class BinaryData {

  private BinaryData() {}

  /** The Netty buffer behind a Vert.x buffer, indexed like it, or null. */
  static ByteBuf nettyView(Buffer body) {
    if (body instanceof BufferInternal internal) {
      ByteBuf view = internal.getByteBuf();
      if (view.readerIndex() == 0 && view.readableBytes() == body.length()) return view;
    }
    return null;
  }

  /**
   * The {@code size} bytes at {@code offset} of the body as the tensor data of {@code in}: a view
   * of the body when possible (see {@link #heapView}), else a copy in native order, direct when
   * {@code direct}.
   */
  static ByteBuffer copy(Buffer body, int offset, int size, PendingInput in, boolean direct) {
    ByteBuffer out = heapView(body, offset, size, direct);
    if (out != null) {
      checkBooleans(out, size, in);
      return out;
    }
    out = Tensor.allocate(size, direct);
    if (out.hasArray()) {
      body.getBytes(offset, offset + size, out.array(), out.arrayOffset());
    } else if (nettyView(body) != null) {
      nettyView(body)
          .getBytes(offset, out.duplicate()); // one copy, straight into the direct buffer
    } else {
      out.put(body.getBytes(offset, offset + size)).flip();
    }
    int width = in.datatype.byteSize();
    if (width > 1 && ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      swapToNative(out, width);
    }
    checkBooleans(out, size, in);
    return out;
  }

  /**
   * The tensor's bytes as a view of the request body, without a copy, when heap tensors were asked
   * for, the machine is little-endian (the wire order) and the body is backed by an array; else
   * null. Like the JSON part, which is parsed straight from that array, the view relies on Vert.x
   * buffers being unpooled: the array stays valid for as long as the view is referenced.
   */
  static ByteBuffer heapView(Buffer body, int offset, int size, boolean direct) {
    if (direct || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) return null;
    ByteBuf view = nettyView(body);
    if (view == null || view.isDirect() || !view.hasArray()) return null;
    return ByteBuffer.wrap(view.array(), view.arrayOffset() + offset, size)
        .slice()
        .order(ByteOrder.nativeOrder());
  }

  private static void checkBooleans(ByteBuffer out, int size, PendingInput in) {
    if (in.datatype == Datatype.BOOL) {
      for (int i = 0; i < size; i++) {
        byte b = out.get(i);
        if (b != 0 && b != 1) {
          throw new BadInputException(
              in.label()
                  + ": byte "
                  + (b & 0xff)
                  + " at index "
                  + i
                  + " is not a boolean (BOOL takes 0 or 1)");
        }
      }
    }
  }

  private static void swapToNative(ByteBuffer b, int width) {
    ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.capacity() / width;
    for (int i = 0; i < n; i++) {
      int at = i * width;
      switch (width) {
        case 2 -> b.putShort(at, le.getShort(at));
        case 4 -> b.putInt(at, le.getInt(at));
        case 8 -> b.putLong(at, le.getLong(at));
        default -> throw new IllegalStateException("width " + width);
      }
    }
  }

  /**
   * Checks that every input sends its values one way (JSON {@code data} or {@code
   * binary_data_size}), that each binary size matches the input's datatype and shape ({@code
   * counts} elements) and that the sizes add up to the {@code binaryPresent} bytes after the JSON
   * header.
   */
  static void checkSizes(
      List<PendingInput> inputs, long[] counts, Integer headerLength, long binaryPresent) {
    long binaryTotal = 0;
    for (int i = 0; i < inputs.size(); i++) {
      PendingInput in = inputs.get(i);
      if (in.hasData && in.binarySize != null) {
        throw new BadInputException(
            in.label() + " has both 'data' and a binary_data_size parameter (send one of them)");
      }
      if (!in.hasData && in.binarySize == null) {
        throw new BadInputException(
            in.label() + " has no 'data' (and no binary_data_size parameter)");
      }
      if (in.binarySize != null) {
        if (headerLength == null) {
          throw new BadInputException(
              in.label()
                  + " has a binary_data_size parameter but the request has no "
                  + HEADER_LENGTH
                  + " header");
        }
        long expected = counts[i] * in.datatype.byteSize();
        if (in.binarySize != expected) {
          throw new BadInputException(
              in.label()
                  + ": binary_data_size "
                  + in.binarySize
                  + " does not match the "
                  + expected
                  + " bytes of "
                  + in.datatype
                  + " "
                  + Arrays.toString(in.shape));
        }
        binaryTotal += expected;
      }
    }
    if (binaryTotal != binaryPresent) {
      throw new BadInputException(
          "the body has "
              + binaryPresent
              + " bytes of binary data after the JSON header but the "
              + "inputs' binary_data_size add up to "
              + binaryTotal);
    }
  }
}
