package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.HalfFloat;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static ai.distill.gateway.protocol.InferRequestDecoder.HEADER_LENGTH;
import static ai.distill.gateway.protocol.InferRequestDecoder.malformed;
import static ai.distill.gateway.protocol.InferRequestDecoder.truncate;

/**
 * The streaming reader behind {@link InferRequestDecoder} and {@link InferResponseDecoder}: one instance
 * per body, not thread-safe. Tensor objects are read field by field; when {@code data} comes after name,
 * shape and datatype (the usual order) it is validated and parsed in the same pass, otherwise its position
 * is remembered and it is parsed once the header is known.
 */
final class BodyReader {

    /** One input as read from the JSON header, before validation. */
    static final class PendingInput {
        final String kind; // "input" or "output"
        final int index;
        String name;
        Datatype datatype;
        long[] shape;
        Long binarySize;
        boolean hasData;
        int dataStart = -1;      // byte offset of the data array when it was read before name/shape/datatype
        ByteBuffer values;       // parsed JSON data (null when too many values were sent to store)
        long valueCount = -1;    // number of JSON values seen

        PendingInput(String kind, int index) {
            this.kind = kind;
            this.index = index;
        }

        String label() {
            return name != null ? kind + " '" + name + "'" : kind + "s[" + index + "]";
        }
    }

    private record PendingOutput(String name, Boolean binary) {
    }

    final boolean response;
    final byte[] json;       // holds the JSON part at [base, base + jsonLength)
    final int base;
    final int jsonLength;
    final List<TensorSpec> modelInputs;
    final List<TensorSpec> modelOutputs;
    final Map<String, TensorSpec> specs = new HashMap<>();
    final boolean direct;
    String id;
    boolean sawInputs;
    final List<PendingInput> inputs = new ArrayList<>();
    final Set<String> withData = new HashSet<>();
    List<PendingOutput> outputs = List.of();
    Map<String, Object> parameters = Map.of();
    boolean binaryDataOutput;
    String modelName;
    String modelVersion;

    /**
     * A reader of a request body validated against the model's signature ({@code response} false), or of a
     * response body with tensors in its {@code outputs} and no signature to check ({@code response} true,
     * model lists empty).
     */
    BodyReader(boolean response, Buffer body, int jsonLength, List<TensorSpec> modelInputs, List<TensorSpec> modelOutputs,
               boolean direct) {
        this.response = response;
        ByteBuf view = nettyView(body);
        if (view != null && view.hasArray()) {
            // parse the body's own array (Vert.x bodies are heap buffers): no copy of the JSON part
            this.json = view.array();
            this.base = view.arrayOffset();
        } else {
            this.json = body.getBytes(0, jsonLength);
            this.base = 0;
        }
        this.jsonLength = jsonLength;
        this.modelInputs = modelInputs;
        this.modelOutputs = modelOutputs;
        this.direct = direct;
        for (TensorSpec s : modelInputs) specs.put(s.name(), s);
    }

    /** The Netty buffer behind a Vert.x buffer, indexed like it, or null. */
    static ByteBuf nettyView(Buffer body) {
        if (body instanceof BufferInternal internal) {
            ByteBuf view = internal.getByteBuf();
            if (view.readerIndex() == 0 && view.readableBytes() == body.length()) return view;
        }
        return null;
    }

    /** A parser over the JSON part. */
    JsonParser parser() throws IOException {
        return Json.FACTORY.createParser(json, base, jsonLength);
    }

    void parseBody(JsonParser p) throws IOException {
        String what = response ? "response" : "request";
        JsonToken t = p.nextToken();
        if (t != JsonToken.START_OBJECT) {
            throw new BadInputException("the " + what + " must be a JSON object, got " + describe(p, t));
        }
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            t = p.nextToken();
            switch (field) {
                case "id" -> id = readId(p, t);
                case "inputs" -> {
                    if (response) p.skipChildren();
                    else parseTensors(p, t, "input");
                }
                case "outputs" -> {
                    if (response) parseTensors(p, t, "output");
                    else parseOutputs(p, t);
                }
                case "parameters" -> parseParameters(p, t);
                case "model_name" -> modelName = response ? readString(p, t, field) : skip(p);
                case "model_version" -> modelVersion = response ? readString(p, t, field) : skip(p);
                default -> p.skipChildren();
            }
        }
        long end = p.currentLocation().getByteOffset();
        boolean trailing;
        try {
            trailing = p.nextToken() != null;
        } catch (JsonProcessingException e) {
            trailing = true;
        }
        if (trailing) {
            throw new BadInputException("malformed JSON: unexpected content after the " + what + " object at byte " + end
                    + " (binary tensor data needs the " + HEADER_LENGTH + " header)");
        }
    }

    private static String skip(JsonParser p) throws IOException {
        p.skipChildren();
        return null;
    }

    private static String readString(JsonParser p, JsonToken t, String field) throws IOException {
        if (t == JsonToken.VALUE_NULL) return null;
        if (t != JsonToken.VALUE_STRING) {
            throw new BadInputException("'" + field + "' must be a string, got " + describe(p, t));
        }
        return p.getText();
    }

    String readId(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_STRING, VALUE_NUMBER_INT -> p.getText();
            case VALUE_NULL -> null;
            default -> throw new BadInputException("'id' must be a string, got " + describe(p, t));
        };
    }

    void parseParameters(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            throw new BadInputException("'parameters' must be an object, got " + describe(p, t));
        }
        parameters = readObject(p);
        Object bdo = parameters.get("binary_data_output");
        if (bdo != null && !(bdo instanceof Boolean)) {
            throw new BadInputException("parameters.binary_data_output must be true or false, got " + bdo);
        }
        binaryDataOutput = Boolean.TRUE.equals(bdo);
    }

    void parseTensors(JsonParser p, JsonToken t, String kind) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            throw new BadInputException("'" + kind + "s' must be an array of " + kind + " objects, got " + describe(p, t));
        }
        sawInputs = true;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int index = inputs.size();
            if (t != JsonToken.START_OBJECT) {
                throw new BadInputException(kind + "s[" + index + "] must be an object, got " + describe(p, t));
            }
            PendingInput in = new PendingInput(kind, index);
            inputs.add(in);
            parseInput(p, in);
        }
    }

    void parseInput(JsonParser p, PendingInput in) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            t = p.nextToken();
            switch (field) {
                case "name" -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw new BadInputException(in.label() + ": 'name' must be a string, got " + describe(p, t));
                    }
                    in.name = p.getText();
                }
                case "datatype" -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw new BadInputException(in.label() + ": 'datatype' must be a string, got " + describe(p, t));
                    }
                    try {
                        in.datatype = Datatype.parse(p.getText());
                    } catch (IllegalArgumentException e) {
                        throw new BadInputException(in.label() + ": " + e.getMessage());
                    }
                }
                case "shape" -> in.shape = readShape(p, t, in);
                case "parameters" -> readInputParameters(p, t, in);
                case "data" -> readData(p, t, in);
                default -> p.skipChildren();
            }
        }
    }

    long[] readShape(JsonParser p, JsonToken t, PendingInput in) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            throw new BadInputException(in.label() + ": 'shape' must be an array of integers, got " + describe(p, t));
        }
        long[] dims = new long[4];
        int n = 0;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new BadInputException(in.label() + ": 'shape' must be an array of integers, got " + describe(p, t) + " in it");
            }
            if (n == InferRequestDecoder.MAX_RANK) {
                throw new BadInputException(in.label() + ": shape has more than " + InferRequestDecoder.MAX_RANK + " dimensions");
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new BadInputException(in.label() + ": shape dimension " + truncate(p.getText()) + " is too large");
            }
            if (n == dims.length) dims = Arrays.copyOf(dims, n * 2);
            dims[n++] = p.getLongValue();
        }
        return Arrays.copyOf(dims, n);
    }

    void readInputParameters(JsonParser p, JsonToken t, PendingInput in) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            throw new BadInputException(in.label() + ": 'parameters' must be an object, got " + describe(p, t));
        }
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            t = p.nextToken();
            if (field.equals("binary_data_size")) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        || p.getLongValue() < 0) {
                    throw new BadInputException(in.label() + ": binary_data_size must be a non-negative integer, got "
                            + describe(p, t));
                }
                in.binarySize = p.getLongValue();
            } else {
                p.skipChildren();
            }
        }
    }

    void readData(JsonParser p, JsonToken t, PendingInput in) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            throw new BadInputException(in.label() + ": 'data' must be an array, got " + describe(p, t));
        }
        in.hasData = true;
        if (in.name != null && !withData.add(in.name)) {
            // before parsing: repeated copies of a large input must not each allocate a buffer
            throw new BadInputException(in.label() + " appears more than once");
        }
        TensorSpec spec = in.name == null ? null : specs.get(in.name);
        if ((spec != null || response) && in.datatype != null && in.shape != null) {
            // the usual field order (name, shape, datatype, data): validate, then parse in one pass
            long start = p.currentTokenLocation().getByteOffset();
            long count = checkHeader(in, spec);
            readValues(p, in, count, jsonLength - start);
        } else {
            // data came before what we need to interpret it: remember where it is, parse it after the header
            in.dataStart = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
        }
    }

    void parseOutputs(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            throw new BadInputException("'outputs' must be an array of output objects, got " + describe(p, t));
        }
        List<PendingOutput> list = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            String label = "outputs[" + list.size() + "]";
            if (t != JsonToken.START_OBJECT) {
                throw new BadInputException(label + " must be an object, got " + describe(p, t));
            }
            String name = null;
            Boolean binary = null;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                t = p.nextToken();
                if (field.equals("name")) {
                    if (t != JsonToken.VALUE_STRING) {
                        throw new BadInputException(label + ": 'name' must be a string, got " + describe(p, t));
                    }
                    name = p.getText();
                } else if (field.equals("parameters")) {
                    if (t != JsonToken.START_OBJECT) {
                        throw new BadInputException(label + ": 'parameters' must be an object, got " + describe(p, t));
                    }
                    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                        String param = p.currentName();
                        t = p.nextToken();
                        if (param.equals("binary_data")) {
                            if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                                throw new BadInputException(label + ": binary_data must be true or false, got " + describe(p, t));
                            }
                            binary = t == JsonToken.VALUE_TRUE;
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (name == null) {
                throw new BadInputException(label + " has no 'name'");
            }
            list.add(new PendingOutput(name, binary));
        }
        outputs = list;
    }

    /**
     * Checks an input's datatype and shape against the model and returns its element count.
     */
    long checkHeader(PendingInput in, TensorSpec spec) {
        if (spec != null && in.datatype != spec.datatype()) {
            throw new BadInputException(in.label() + ": datatype " + in.datatype + " does not match the model's " + spec.datatype());
        }
        if (in.datatype == Datatype.BYTES) {
            throw new BadInputException(in.label() + ": datatype BYTES is not supported by this server");
        }
        long minDim = response ? 0 : 1;
        for (long d : in.shape) {
            if (d < minDim) {
                throw new BadInputException(in.label() + ": shape " + Arrays.toString(in.shape)
                        + " has a dimension below " + minDim + " (every dimension must be at least " + minDim + ")");
            }
        }
        if (spec != null && !spec.accepts(in.shape)) {
            throw new BadInputException(in.label() + ": shape " + Arrays.toString(in.shape) + " does not match the model's "
                    + Arrays.toString(spec.shape()));
        }
        long count = Tensor.elementCount(in.shape);
        if (count < 0 || count > Tensor.MAX_BYTES / in.datatype.byteSize()) {
            throw new BadInputException(in.label() + ": shape " + Arrays.toString(in.shape) + " is too large (over "
                    + Tensor.MAX_BYTES + " bytes)");
        }
        return count;
    }

    /** Reads a (nested or flat) data array whose START_ARRAY is the current token. */
    void readValues(JsonParser p, PendingInput in, long count, long remainingBytes) throws IOException {
        // every value takes at least 2 bytes of JSON ("1,"): never allocate for more values than can be there
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
                    throw new BadInputException(in.label() + ": value " + describe(p, t) + " at index " + n
                            + " is not a number (" + in.datatype + ")");
                }
                n++;
            }
        }
        in.values = out;
        in.valueCount = n;
    }

    /** Validates what the body declared and builds the request's tensors. */
    InferRequest finish(Buffer body, Integer headerLength, int jsonLength) {
        return new InferRequest(id, tensors(body, headerLength, jsonLength), resolveOutputs(), binaryDataOutput, parameters);
    }

    /** Validates a response body and builds its output tensors. */
    InferResponseDecoder.InferResponse finishResponse(Buffer body, Integer headerLength, int jsonLength) {
        if (modelName == null) {
            throw new BadInputException("the response has no 'model_name'");
        }
        if (!sawInputs) {
            throw new BadInputException("the response has no 'outputs'");
        }
        return new InferResponseDecoder.InferResponse(modelName, modelVersion, id, tensors(body, headerLength, jsonLength), parameters);
    }

    private List<Tensor> tensors(Buffer body, Integer headerLength, int jsonLength) {
        if (response) {
            Set<String> seen = new HashSet<>();
            for (PendingInput in : inputs) {
                if (in.name == null) throw new BadInputException(in.label() + " has no 'name'");
                if (!seen.add(in.name)) throw new BadInputException(in.label() + " appears more than once");
            }
        } else {
            checkNames();
        }
        long[] counts = new long[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            PendingInput in = inputs.get(i);
            if (in.datatype == null) throw new BadInputException(in.label() + " has no 'datatype'");
            if (in.shape == null) throw new BadInputException(in.label() + " has no 'shape'");
            counts[i] = checkHeader(in, specs.get(in.name));
        }
        if (!response) checkBatchDimension();
        return readTensors(body, headerLength, jsonLength, counts);
    }

    private void checkNames() {
        if (inputs.isEmpty()) {
            throw new BadInputException((sawInputs ? "the request's 'inputs' is empty" : "the request has no 'inputs'")
                    + "; the model expects " + describe(modelInputs));
        }
        Set<String> names = new HashSet<>();
        for (PendingInput in : inputs) {
            if (in.name == null) throw new BadInputException(in.label() + " has no 'name'");
            if (!names.add(in.name)) throw new BadInputException(in.label() + " appears more than once");
        }
        List<String> unexpected = new ArrayList<>();
        for (PendingInput in : inputs) {
            if (!specs.containsKey(in.name)) unexpected.add(in.name);
        }
        List<String> missing = new ArrayList<>();
        for (TensorSpec s : modelInputs) {
            if (!names.contains(s.name())) missing.add(s.name());
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            if (!missing.isEmpty()) sb.append("missing input(s) ").append(quote(missing));
            if (!unexpected.isEmpty()) {
                if (sb.length() > 0) sb.append(" and ");
                sb.append("unexpected input(s) ").append(quote(unexpected));
            }
            sb.append("; the model expects ").append(describe(modelInputs));
            throw new BadInputException(sb.toString());
        }
    }

    private void checkBatchDimension() {
        PendingInput batchRef = null;
        for (PendingInput in : inputs) {
            if (!specs.get(in.name).batched()) continue;
            if (batchRef == null) {
                batchRef = in;
            } else if (in.shape[0] != batchRef.shape[0]) {
                throw new BadInputException("inputs disagree on the batch dimension: '" + batchRef.name + "' has "
                        + batchRef.shape[0] + " rows, '" + in.name + "' has " + in.shape[0]);
            }
        }
    }

    private List<Tensor> readTensors(Buffer body, Integer headerLength, int jsonLength, long[] counts) {
        long binaryTotal = 0;
        for (int i = 0; i < inputs.size(); i++) {
            PendingInput in = inputs.get(i);
            if (in.hasData && in.binarySize != null) {
                throw new BadInputException(in.label() + " has both 'data' and a binary_data_size parameter (send one of them)");
            }
            if (!in.hasData && in.binarySize == null) {
                throw new BadInputException(in.label() + " has no 'data' (and no binary_data_size parameter)");
            }
            if (in.binarySize != null) {
                if (headerLength == null) {
                    throw new BadInputException(in.label() + " has a binary_data_size parameter but the " + (response ? "response" : "request") + " has no "
                            + HEADER_LENGTH + " header");
                }
                long expected = counts[i] * in.datatype.byteSize();
                if (in.binarySize != expected) {
                    throw new BadInputException(in.label() + ": binary_data_size " + in.binarySize + " does not match the "
                            + expected + " bytes of " + in.datatype + " " + Arrays.toString(in.shape));
                }
                binaryTotal += expected;
            }
        }
        long binaryPresent = (long) body.length() - jsonLength;
        if (binaryTotal != binaryPresent) {
            throw new BadInputException("the body has " + binaryPresent + " bytes of binary data after the JSON header but the "
                    + "inputs' binary_data_size add up to " + binaryTotal);
        }
        List<Tensor> tensors = new ArrayList<>(inputs.size());
        int offset = jsonLength;
        for (int i = 0; i < inputs.size(); i++) {
            PendingInput in = inputs.get(i);
            ByteBuffer data;
            if (in.binarySize != null) {
                data = copyBinary(body, offset, (int) (long) in.binarySize, in);
                offset += (int) (long) in.binarySize;
            } else {
                if (in.valueCount < 0) readDeferred(in, counts[i]);
                if (in.valueCount != counts[i]) {
                    throw new BadInputException(in.label() + ": shape " + Arrays.toString(in.shape) + " needs " + counts[i]
                            + " values, got " + in.valueCount);
                }
                data = in.values;
            }
            tensors.add(Tensor.of(in.name, in.datatype, in.shape, data));
        }
        return tensors;
    }

    void readDeferred(PendingInput in, long count) {
        try (JsonParser p = Json.FACTORY.createParser(json, base + in.dataStart, jsonLength - in.dataStart)) {
            p.nextToken();
            readValues(p, in, count, jsonLength - in.dataStart);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    ByteBuffer copyBinary(Buffer body, int offset, int size, PendingInput in) {
        ByteBuffer out = heapView(body, offset, size);
        if (out != null) {
            checkBooleans(out, size, in);
            return out;
        }
        out = Tensor.allocate(size, direct);
        if (out.hasArray()) {
            body.getBytes(offset, offset + size, out.array(), out.arrayOffset());
        } else if (nettyView(body) != null) {
            nettyView(body).getBytes(offset, out.duplicate()); // one copy, straight into the direct buffer
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
    ByteBuffer heapView(Buffer body, int offset, int size) {
        if (direct || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) return null;
        ByteBuf view = nettyView(body);
        if (view == null || view.isDirect() || !view.hasArray()) return null;
        return ByteBuffer.wrap(view.array(), view.arrayOffset() + offset, size).slice().order(ByteOrder.nativeOrder());
    }

    private static void checkBooleans(ByteBuffer out, int size, PendingInput in) {
        if (in.datatype == Datatype.BOOL) {
            for (int i = 0; i < size; i++) {
                byte b = out.get(i);
                if (b != 0 && b != 1) {
                    throw new BadInputException(in.label() + ": byte " + (b & 0xff) + " at index " + i
                            + " is not a boolean (BOOL takes 0 or 1)");
                }
            }
        }
    }

    List<RequestedOutput> resolveOutputs() {
        if (outputs.isEmpty()) return List.of();
        Set<String> known = modelOutputs.stream().map(TensorSpec::name).collect(Collectors.toSet());
        Set<String> seen = new HashSet<>();
        List<String> unknown = new ArrayList<>();
        List<RequestedOutput> resolved = new ArrayList<>(outputs.size());
        for (PendingOutput o : outputs) {
            if (!seen.add(o.name())) {
                throw new BadInputException("output '" + o.name() + "' is requested more than once");
            }
            if (!known.contains(o.name())) unknown.add(o.name());
            resolved.add(new RequestedOutput(o.name(), o.binary() != null ? o.binary() : binaryDataOutput));
        }
        if (!unknown.isEmpty()) {
            throw new BadInputException("unknown output(s) " + quote(unknown) + "; the model's outputs are "
                    + quote(modelOutputs.stream().map(TensorSpec::name).toList()));
        }
        return resolved;
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

    /** Reads one JSON value of a data array into a buffer slot, enforcing the datatype's domain. */
    private static final class ValueReader {
        private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

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
                case INT32 -> out.putInt(i << 2, (int) readInteger(t, i, Integer.MIN_VALUE, Integer.MAX_VALUE));
                case INT16 -> out.putShort(i << 1, (short) readInteger(t, i, Short.MIN_VALUE, Short.MAX_VALUE));
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
                if (p.isNaN()) return p.getFloatValue(); // the NaN / Infinity literals (true only before conversion)
                // straight from the parser's character buffer: no String per value, correctly rounded
                float f = NumberInput.parseFloat(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
                if (Float.isInfinite(f)) throw outOfRange(i, "");
                return f;
            }
            if (t == JsonToken.VALUE_NUMBER_INT) {
                float f = p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue().floatValue() : (float) p.getLongValue();
                if (Float.isInfinite(f)) throw outOfRange(i, "");
                return f;
            }
            if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN": return Float.NaN;
                    case "Infinity": case "+Infinity": return Float.POSITIVE_INFINITY;
                    case "-Infinity": return Float.NEGATIVE_INFINITY;
                    default: break;
                }
            }
            throw notANumber(t, i);
        }

        double readDouble(JsonToken t, int i) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                if (p.isNaN()) return p.getDoubleValue();
                double d = NumberInput.parseDouble(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
                if (Double.isInfinite(d)) throw outOfRange(i, "");
                return d;
            }
            if (t == JsonToken.VALUE_NUMBER_INT) {
                double d = p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue().doubleValue() : (double) p.getLongValue();
                if (Double.isInfinite(d)) throw outOfRange(i, "");
                return d;
            }
            if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN": return Double.NaN;
                    case "Infinity": case "+Infinity": return Double.POSITIVE_INFINITY;
                    case "-Infinity": return Double.NEGATIVE_INFINITY;
                    default: break;
                }
            }
            throw notANumber(t, i);
        }

        long readInteger(JsonToken t, int i, long min, long max) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_INT) {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) throw outOfRange(i, range(min, max));
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
            if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) throw outOfRange(i, " [0, " + UINT64_MAX + "]");
            return v.longValue();
        }

        /** The exact integer value of a float token such as 2.0 or 1e3; rejects fractions, NaN and infinities. */
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
            if (intDigits < 0) throw notAnInteger(i);     // 0 < |d| < 0.1
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
            throw new BadInputException(in.label() + ": value " + describe(p, t) + " at index " + i
                    + " is not a boolean (BOOL takes true/false or 0/1)");
        }

        private String range(long min, long max) {
            return datatype == Datatype.INT64 ? "" : " [" + min + ", " + max + "]";
        }

        BadInputException outOfRange(int i, String range) throws IOException {
            return new BadInputException(in.label() + ": value " + truncate(p.getText()) + " at index " + i + " is out of range for "
                    + datatype + range);
        }

        BadInputException notAnInteger(int i) throws IOException {
            return new BadInputException(in.label() + ": value " + truncate(p.getText()) + " at index " + i + " is not an integer ("
                    + datatype + ")");
        }

        BadInputException notANumber(JsonToken t, int i) throws IOException {
            return new BadInputException(in.label() + ": value " + describe(p, t) + " at index " + i + " is not a number ("
                    + datatype + ")");
        }
    }



    static String describe(JsonParser p, JsonToken t) throws IOException {
        if (t == null) return "nothing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "\"" + truncate(p.getText()) + "\"";
            case VALUE_NULL -> "null";
            default -> truncate(p.getText());
        };
    }

    static String describe(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::toString).collect(Collectors.joining(", "));
    }

    static String quote(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
    }

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
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new BadInputException("malformed JSON: unexpected " + t);
        };
    }
}
