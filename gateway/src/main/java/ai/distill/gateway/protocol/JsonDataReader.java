package ai.distill.gateway.protocol;

import static ai.distill.gateway.protocol.BodyReader.describe;
import static ai.distill.gateway.protocol.InferRequestDecoder.truncate;

import ai.distill.gateway.protocol.BodyReader.PendingInput;
import ai.distill.gateway.tensor.HalfFloat;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;

/**
 * The JSON side of {@link BodyReader}: reads one input's {@code data} array (nested or flat)
 * straight from the streaming parser into a native-order buffer of its datatype, enforcing each
 * datatype's domain (ranges, integers, booleans, the NaN/Infinity strings), without boxing a value.
 * Stateless.
 */
final class JsonDataReader {

  private JsonDataReader() {}

  /** Reads a (nested or flat) data array whose START_ARRAY is the current token. */
  static void read(JsonParser p, PendingInput in, long count, long remainingBytes, boolean direct)
      throws IOException {
    // every value takes at least 2 bytes of JSON ("1,"): never allocate for more values than can be
    // there
    long possible = remainingBytes / 2 + 1;
    int size = in.datatype.byteSize();
    ByteBuffer out = count <= possible ? Tensor.allocate(count * size, direct) : null;
    long capacity = out == null ? 0 : count;
    ValueReader reader = new ValueReader(p, in, in.datatype);
    long n = 0;
    int depth = 1;
    while (true) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.END_ARRAY) {
        if (--depth == 0) break;
      } else if (t == JsonToken.START_ARRAY) {
        depth++;
      } else if (t == null) {
        throw new BadInputException("malformed JSON: " + in.label() + ": 'data' is not closed");
      } else {
        if (n < capacity) {
          reader.store(t, out, (int) n);
        } else if (t == JsonToken.START_OBJECT) {
          throw new BadInputException(
              in.label()
                  + ": value "
                  + describe(p, t)
                  + " at index "
                  + n
                  + " is not a number ("
                  + in.datatype
                  + ")");
        }
        n++;
      }
    }
    in.values = out;
    in.valueCount = n;
  }

  /** Reads one JSON value of a data array into a buffer slot, enforcing the datatype's domain. */
  private static final class ValueReader {
    private static final BigInteger UINT64_MAX =
        BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    final JsonParser p;
    final PendingInput in;
    final Datatype datatype;

    ValueReader(JsonParser p, PendingInput in, Datatype datatype) {
      this.p = p;
      this.in = in;
      this.datatype = datatype;
    }

    void store(JsonToken t, ByteBuffer out, int i) throws IOException {
      switch (datatype) {
        case FP32 -> out.putFloat(i << 2, readFloat(t, i));
        case FP64 -> out.putDouble(i << 3, readDouble(t, i));
        case FP16 -> {
          float f = readFloat(t, i);
          short h = HalfFloat.fromFloat(f);
          if (Float.isFinite(f) && (h & 0x7c00) == 0x7c00) throw outOfRange(i, "");
          out.putShort(i << 1, h);
        }
        case INT64 -> out.putLong(i << 3, readInteger(t, i, Long.MIN_VALUE, Long.MAX_VALUE));
        case INT32 ->
            out.putInt(i << 2, (int) readInteger(t, i, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case INT16 ->
            out.putShort(i << 1, (short) readInteger(t, i, Short.MIN_VALUE, Short.MAX_VALUE));
        case INT8 -> out.put(i, (byte) readInteger(t, i, Byte.MIN_VALUE, Byte.MAX_VALUE));
        case UINT8 -> out.put(i, (byte) readInteger(t, i, 0, 0xff));
        case UINT16 -> out.putShort(i << 1, (short) readInteger(t, i, 0, 0xffff));
        case UINT32 -> out.putInt(i << 2, (int) readInteger(t, i, 0, 0xffffffffL));
        case UINT64 -> out.putLong(i << 3, readUint64(t, i));
        case BOOL -> out.put(i, readBool(t, i));
        case BYTES -> throw new IllegalStateException("BYTES");
      }
    }

    float readFloat(JsonToken t, int i) throws IOException {
      if (t == JsonToken.VALUE_NUMBER_FLOAT) {
        if (p.isNaN())
          return p.getFloatValue(); // the NaN / Infinity literals (true only before conversion)
        // straight from the parser's character buffer: no String per value, correctly rounded
        float f =
            NumberInput.parseFloat(
                p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
        if (Float.isInfinite(f)) throw outOfRange(i, "");
        return f;
      }
      if (t == JsonToken.VALUE_NUMBER_INT) {
        float f =
            p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                ? p.getBigIntegerValue().floatValue()
                : (float) p.getLongValue();
        if (Float.isInfinite(f)) throw outOfRange(i, "");
        return f;
      }
      if (t == JsonToken.VALUE_STRING) {
        switch (p.getText()) {
          case "NaN":
            return Float.NaN;
          case "Infinity":
          case "+Infinity":
            return Float.POSITIVE_INFINITY;
          case "-Infinity":
            return Float.NEGATIVE_INFINITY;
          default:
            break;
        }
      }
      throw notANumber(t, i);
    }

    double readDouble(JsonToken t, int i) throws IOException {
      if (t == JsonToken.VALUE_NUMBER_FLOAT) {
        if (p.isNaN()) return p.getDoubleValue();
        double d =
            NumberInput.parseDouble(
                p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
        if (Double.isInfinite(d)) throw outOfRange(i, "");
        return d;
      }
      if (t == JsonToken.VALUE_NUMBER_INT) {
        double d =
            p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                ? p.getBigIntegerValue().doubleValue()
                : (double) p.getLongValue();
        if (Double.isInfinite(d)) throw outOfRange(i, "");
        return d;
      }
      if (t == JsonToken.VALUE_STRING) {
        switch (p.getText()) {
          case "NaN":
            return Double.NaN;
          case "Infinity":
          case "+Infinity":
            return Double.POSITIVE_INFINITY;
          case "-Infinity":
            return Double.NEGATIVE_INFINITY;
          default:
            break;
        }
      }
      throw notANumber(t, i);
    }

    long readInteger(JsonToken t, int i, long min, long max) throws IOException {
      if (t == JsonToken.VALUE_NUMBER_INT) {
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER)
          throw outOfRange(i, range(min, max));
        long v = p.getLongValue();
        if (v < min || v > max) throw outOfRange(i, range(min, max));
        return v;
      }
      if (t == JsonToken.VALUE_NUMBER_FLOAT) {
        BigInteger v = integral(i);
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
          throw outOfRange(i, range(min, max));
        }
        return v.longValue();
      }
      throw notANumber(t, i);
    }

    long readUint64(JsonToken t, int i) throws IOException {
      BigInteger v;
      if (t == JsonToken.VALUE_NUMBER_INT) {
        if (p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          long l = p.getLongValue();
          if (l < 0) throw outOfRange(i, " [0, " + UINT64_MAX + "]");
          return l;
        }
        v = p.getBigIntegerValue();
      } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
        v = integral(i);
      } else {
        throw notANumber(t, i);
      }
      if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0)
        throw outOfRange(i, " [0, " + UINT64_MAX + "]");
      return v.longValue();
    }

    /**
     * The exact integer value of a float token such as 2.0 or 1e3; rejects fractions, NaN and
     * infinities.
     */
    BigInteger integral(int i) throws IOException {
      if (p.isNaN()) throw notAnInteger(i);
      BigDecimal d;
      try {
        d = p.getDecimalValue();
      } catch (NumberFormatException e) { // an exponent beyond BigDecimal's range
        String text = p.getText();
        if (text.contains("e-") || text.contains("E-")) throw notAnInteger(i);
        throw outOfRange(i, "");
      }
      if (d.signum() == 0) return BigInteger.ZERO;
      long intDigits = (long) d.precision() - d.scale();
      if (intDigits > 20) throw outOfRange(i, ""); // beyond 10^20 > 2^64, whatever the type
      if (intDigits < 0) throw notAnInteger(i); // 0 < |d| < 0.1
      try {
        return d.toBigIntegerExact();
      } catch (ArithmeticException e) {
        throw notAnInteger(i);
      }
    }

    byte readBool(JsonToken t, int i) throws IOException {
      if (t == JsonToken.VALUE_TRUE) return 1;
      if (t == JsonToken.VALUE_FALSE) return 0;
      if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
        int v = p.getIntValue();
        if (v == 0 || v == 1) return (byte) v;
      }
      throw new BadInputException(
          in.label()
              + ": value "
              + describe(p, t)
              + " at index "
              + i
              + " is not a boolean (BOOL takes true/false or 0/1)");
    }

    private String range(long min, long max) {
      return datatype == Datatype.INT64 ? "" : " [" + min + ", " + max + "]";
    }

    BadInputException outOfRange(int i, String range) throws IOException {
      return new BadInputException(
          in.label()
              + ": value "
              + truncate(p.getText())
              + " at index "
              + i
              + " is out of range for "
              + datatype
              + range);
    }

    BadInputException notAnInteger(int i) throws IOException {
      return new BadInputException(
          in.label()
              + ": value "
              + truncate(p.getText())
              + " at index "
              + i
              + " is not an integer ("
              + datatype
              + ")");
    }

    BadInputException notANumber(JsonToken t, int i) throws IOException {
      return new BadInputException(
          in.label()
              + ": value "
              + describe(p, t)
              + " at index "
              + i
              + " is not a number ("
              + datatype
              + ")");
    }
  }
}
