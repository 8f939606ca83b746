package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.HalfFloat;
import ai.distill.gateway.tensor.Tensor;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one Jackson factory of the codec (NaN/Infinity accepted, duplicate keys rejected, fast number
 * parsing) and the streaming writers shared by the request and response encoders, and the reader of
 * plain JSON values ({@code parameters}). Stateless.
 */
final class Json {

  /**
   * Nesting beyond this is malformed for us: a request is 2 levels, data adds one per dimension.
   */
  static final int MAX_DEPTH = 64;

  static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .enable(StreamReadFeature.USE_FAST_BIG_NUMBER_PARSER)
          .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
          .build();

  private Json() {}

  static void appendLittleEndian(Buffer body, Tensor t) {
    ByteBuffer data = t.data();
    int width = t.datatype().byteSize();
    if (width > 1 && ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      ByteBuffer le = ByteBuffer.allocate(data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
      for (int at = 0; at < data.capacity(); at += width) {
        switch (width) {
          case 2 -> le.putShort(at, data.getShort(at));
          case 4 -> le.putInt(at, data.getInt(at));
          default -> le.putLong(at, data.getLong(at));
        }
      }
      data = le;
    }
    if (data.hasArray()) {
      body.appendBytes(data.array(), data.arrayOffset() + data.position(), data.remaining());
    } else {
      byte[] chunk = new byte[Math.min(data.remaining(), 64 * 1024)];
      while (data.hasRemaining()) {
        int n = Math.min(chunk.length, data.remaining());
        data.get(chunk, 0, n);
        body.appendBytes(chunk, 0, n);
      }
    }
  }

  static void writeData(JsonGenerator g, Tensor t) throws IOException {
    ByteBuffer b = t.data();
    int n = (int) t.elementCount();
    switch (t.datatype()) {
      case FP32 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getFloat(i << 2));
      }
      case FP64 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getDouble(i << 3));
      }
      case FP16 -> {
        for (int i = 0; i < n; i++) g.writeNumber(HalfFloat.toFloat(b.getShort(i << 1)));
      }
      case INT64 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getLong(i << 3));
      }
      case UINT64 -> {
        for (int i = 0; i < n; i++) {
          long v = b.getLong(i << 3);
          if (v >= 0) g.writeNumber(v);
          else g.writeNumber(Long.toUnsignedString(v));
        }
      }
      case INT32 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getInt(i << 2));
      }
      case UINT32 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getInt(i << 2) & 0xffffffffL);
      }
      case INT16 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getShort(i << 1));
      }
      case UINT16 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.getShort(i << 1) & 0xffff);
      }
      case INT8 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.get(i));
      }
      case UINT8 -> {
        for (int i = 0; i < n; i++) g.writeNumber(b.get(i) & 0xff);
      }
      case BOOL -> {
        for (int i = 0; i < n; i++) g.writeBoolean(b.get(i) != 0);
      }
      case BYTES -> throw new IllegalArgumentException("BYTES outputs are not supported");
    }
  }

  static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte) {
      g.writeNumber(((Number) v).longValue());
    } else if (v instanceof Float f) {
      g.writeNumber(f);
    } else if (v instanceof Double d) {
      g.writeNumber(d);
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof BigDecimal b) {
      g.writeNumber(b);
    } else if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        writeValue(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof Collection<?> c) {
      g.writeStartArray();
      for (Object o : c) writeValue(g, o);
      g.writeEndArray();
    } else {
      g.writeString(v.toString());
    }
  }

  /** Appends whatever Jackson flushes to a Vert.x buffer. */
  /** Reads the object whose START_OBJECT is current into plain Java values. */
  static Map<String, Object> readObject(JsonParser p) throws IOException {
    Map<String, Object> map = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      map.put(key, readValue(p, p.nextToken()));
    }
    return map;
  }

  static Object readValue(JsonParser p, JsonToken t) throws IOException {
    return switch (t) {
      case START_OBJECT -> readObject(p);
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) list.add(readValue(p, e));
        yield list;
      }
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT ->
          p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
              ? p.getBigIntegerValue()
              : (Object) p.getLongValue();
      case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      default -> throw new BadInputException("malformed JSON: unexpected " + t);
    };
  }

  static final class BufferOutputStream extends OutputStream {
    private final Buffer buffer;

    BufferOutputStream(Buffer buffer) {
      this.buffer = buffer;
    }

    @Override
    public void write(int b) {
      buffer.appendByte((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      buffer.appendBytes(b, off, len);
    }
  }
}
