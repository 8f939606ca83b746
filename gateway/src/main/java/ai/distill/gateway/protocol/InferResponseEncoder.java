package ai.distill.gateway.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Encodes an Open Inference Protocol v2 inference response with Jackson's streaming {@link JsonGenerator}
 * straight into a Vert.x {@link Buffer}: JSON outputs carry flat {@code data} and their shape; outputs
 * requested as binary (Triton's binary tensor data extension) carry {@code parameters.binary_data_size} and
 * their little-endian bytes follow the JSON header in output order.
 *
 * <pre>{@code
 * InferResponseEncoder.Encoded e = encoder.encode("ctr", "3", req.id(), outputs, req.outputs(),
 *         req.binaryDataOutput(), Map.of("variant", "ctr"));
 * response.putHeader("Content-Type", e.contentType());
 * if (e.inferenceHeaderContentLength() != null)
 *     response.putHeader(InferRequestDecoder.HEADER_LENGTH, e.inferenceHeaderContentLength().toString());
 * response.end(e.body());
 * }</pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class InferResponseEncoder {

    /** Content type of a pure JSON response. */
    public static final String JSON = "application/json";
    /** Content type of a response with binary tensor data after the JSON header. */
    public static final String OCTET_STREAM = "application/octet-stream";

    /**
     * An encoded response.
     *
     * @param body                         the HTTP body
     * @param inferenceHeaderContentLength the JSON header's length when binary data follows it, else null
     */
    public record Encoded(Buffer body, Integer inferenceHeaderContentLength) {

        /** True when binary tensor data follows the JSON header. */
        public boolean hasBinary() {
            return inferenceHeaderContentLength != null;
        }

        /** {@value #JSON} for pure JSON, {@value #OCTET_STREAM} when binary parts are present. */
        public String contentType() {
            return hasBinary() ? OCTET_STREAM : JSON;
        }
    }

    /**
     * Encodes a response.
     *
     * @param modelName        {@code model_name}
     * @param modelVersion     {@code model_version}, omitted when null
     * @param id               {@code id}, omitted when null
     * @param outputs          the output tensors the model produced for this request
     * @param requested        the request's outputs: which to return in which order and which as binary;
     *                         empty returns every output in {@code outputs} order
     * @param binaryDataOutput whether outputs are binary when {@code requested} is empty
     * @param parameters       response-level {@code parameters} (plain Java values: String, Number, Boolean,
     *                         null, Map, Collection), omitted when null or empty
     * @throws IllegalArgumentException when a requested output is not among {@code outputs} (a server bug:
     *                                  the decoder checked names against the model)
     */
    public Encoded encode(String modelName, String modelVersion, String id, List<Tensor> outputs,
                          List<RequestedOutput> requested, boolean binaryDataOutput, Map<String, Object> parameters) {
        List<Tensor> selected = new ArrayList<>();
        List<Boolean> binary = new ArrayList<>();
        if (requested == null || requested.isEmpty()) {
            for (Tensor t : outputs) {
                selected.add(t);
                binary.add(binaryDataOutput);
            }
        } else {
            for (RequestedOutput r : requested) {
                Tensor found = null;
                for (Tensor t : outputs) {
                    if (t.name().equals(r.name())) {
                        found = t;
                        break;
                    }
                }
                if (found == null) {
                    throw new IllegalArgumentException("requested output '" + r.name() + "' is not among the outputs "
                            + outputs.stream().map(Tensor::name).toList());
                }
                selected.add(found);
                binary.add(r.binary());
            }
        }
        long estimate = 256;
        for (int i = 0; i < selected.size(); i++) {
            Tensor t = selected.get(i);
            estimate += 64 + (binary.get(i) ? t.byteSize() : t.elementCount() * 12L);
        }
        Buffer body = Buffer.buffer((int) Math.min(estimate, 1 << 24));
        boolean anyBinary = false;
        try (JsonGenerator g = Json.FACTORY.createGenerator(new BufferOutputStream(body))) {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            if (modelVersion != null) g.writeStringField("model_version", modelVersion);
            if (id != null) g.writeStringField("id", id);
            if (parameters != null && !parameters.isEmpty()) {
                g.writeFieldName("parameters");
                writeValue(g, parameters);
            }
            g.writeArrayFieldStart("outputs");
            for (int i = 0; i < selected.size(); i++) {
                Tensor t = selected.get(i);
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("datatype", t.datatype().name());
                g.writeArrayFieldStart("shape");
                for (int d = 0; d < t.rank(); d++) g.writeNumber(t.dim(d));
                g.writeEndArray();
                if (binary.get(i)) {
                    anyBinary = true;
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", t.byteSize());
                    g.writeEndObject();
                } else {
                    g.writeArrayFieldStart("data");
                    writeData(g, t);
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the buffer never fails
        }
        if (!anyBinary) return new Encoded(body, null);
        int headerLength = body.length();
        for (int i = 0; i < selected.size(); i++) {
            if (binary.get(i)) appendLittleEndian(body, selected.get(i));
        }
        return new Encoded(body, headerLength);
    }

    private static void appendLittleEndian(Buffer body, Tensor t) {
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

    private static void writeData(JsonGenerator g, Tensor t) throws IOException {
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

    private static void writeValue(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
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
    private static final class BufferOutputStream extends OutputStream {
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
