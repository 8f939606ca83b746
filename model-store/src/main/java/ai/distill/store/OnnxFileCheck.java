package ai.distill.store;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A light structural check that a file is an ONNX {@code ModelProto}, without a protobuf or ONNX
 * Runtime dependency: the top-level protobuf fields must frame the whole file exactly, with the
 * wire types ONNX uses, and include {@code ir_version} (1) and {@code graph} (7). It catches empty,
 * truncated and non-ONNX files; it does not validate the graph itself (the runtime does that when
 * loading). Stateless.
 */
public final class OnnxFileCheck {

  private static final int IR_VERSION = 1;
  private static final int GRAPH = 7;
  private static final int MODEL_VERSION = 5;

  private OnnxFileCheck() {}

  /**
   * Checks {@code file}.
   *
   * @throws IllegalArgumentException saying why the file is not an ONNX model
   * @throws UncheckedIOException when it cannot be read
   */
  public static void check(Path file) {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          "file : " + file + " (expected: an existing ONNX model file)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
    if (size == 0) {
      throw new IllegalArgumentException("file : " + file + " is empty (expected: an ONNX model)");
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      check(in, size, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
  }

  /** Checks in-memory bytes; as {@link #check(Path)}. */
  public static void check(byte[] bytes) {
    if (bytes.length == 0) {
      throw new IllegalArgumentException("model bytes are empty (expected: an ONNX model)");
    }
    try {
      check(new java.io.ByteArrayInputStream(bytes), bytes.length, "model bytes");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void check(InputStream in, long size, String what) throws IOException {
    long pos = 0;
    boolean irVersion = false;
    boolean graph = false;
    while (pos < size) {
      long fieldStart = pos;
      long[] tag = readVarint(in, what, pos);
      pos = tag[1];
      int field = (int) (tag[0] >>> 3);
      int wire = (int) (tag[0] & 7);
      if (field < 1 || field > 1000) {
        throw notOnnx(what, "unexpected protobuf field " + field + " at byte " + fieldStart);
      }
      switch (wire) {
        case 0 -> {
          if (isLengthDelimited(field)) {
            throw notOnnx(
                what, "field " + field + " has the wrong wire type at byte " + fieldStart);
          }
          pos = readVarint(in, what, pos)[1];
          irVersion |= field == IR_VERSION;
        }
        case 2 -> {
          if (field == IR_VERSION || field == MODEL_VERSION) {
            throw notOnnx(
                what, "field " + field + " has the wrong wire type at byte " + fieldStart);
          }
          long[] len = readVarint(in, what, pos);
          pos = len[1];
          if (len[0] < 0 || pos + len[0] > size) {
            throw notOnnx(
                what,
                "field "
                    + field
                    + " at byte "
                    + fieldStart
                    + " claims "
                    + len[0]
                    + " bytes but only "
                    + (size - pos)
                    + " remain (truncated?)");
          }
          in.skipNBytes(len[0]);
          pos += len[0];
          graph |= field == GRAPH;
        }
        case 1, 5 -> {
          int width = wire == 1 ? 8 : 4;
          if (field == IR_VERSION
              || field == MODEL_VERSION
              || isLengthDelimited(field)
              || pos + width > size) {
            throw notOnnx(what, "unexpected fixed-width field " + field + " at byte " + fieldStart);
          }
          in.skipNBytes(width);
          pos += width;
        }
        default ->
            throw notOnnx(what, "invalid protobuf wire type " + wire + " at byte " + fieldStart);
      }
    }
    if (pos != size) {
      throw notOnnx(what, "the last field runs past the end of the file (truncated?)");
    }
    if (!irVersion || !graph) {
      throw notOnnx(what, "no " + (!irVersion ? "ir_version" : "graph") + " field");
    }
  }

  /** ModelProto fields that ONNX defines as strings or messages. */
  private static boolean isLengthDelimited(int field) {
    return switch (field) {
      case 2, 3, 4, 6, 7, 8, 14, 20, 25 -> true;
      default -> false;
    };
  }

  /** Returns {value, position after}. */
  private static long[] readVarint(InputStream in, String what, long pos) throws IOException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.read();
      if (b < 0) {
        throw notOnnx(what, "truncated protobuf varint at byte " + pos);
      }
      pos++;
      value |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return new long[] {value, pos};
      }
    }
    throw notOnnx(what, "malformed protobuf varint at byte " + pos);
  }

  private static IllegalArgumentException notOnnx(String what, String why) {
    return new IllegalArgumentException(
        what
            + " is not an ONNX model: "
            + why
            + " (expected: a serialised ONNX ModelProto, e.g. from torch.onnx.export)");
  }
}
