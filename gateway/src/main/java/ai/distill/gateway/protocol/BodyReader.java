package ai.distill.gateway.protocol;

import static ai.distill.gateway.protocol.InferRequestDecoder.HEADER_LENGTH;
import static ai.distill.gateway.protocol.InferRequestDecoder.malformed;
import static ai.distill.gateway.protocol.InferRequestDecoder.truncate;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The streaming reader behind {@link InferRequestDecoder}: one instance per body, not thread-safe.
 * It reads the JSON header and validates it against the model's signature; a tensor's values come
 * either from its JSON {@code data} ({@link JsonDataReader}) or from the binary section after the
 * header ({@link BinaryData}). Tensor objects are read field by field; when {@code data} comes
 * after name, shape and datatype (the usual order) it is validated and parsed in the same pass,
 * otherwise its position is remembered and it is parsed once the header is known.
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
    int dataStart = -1; // byte offset of the data array when it was read before name/shape/datatype
    ByteBuffer values; // parsed JSON data (null when too many values were sent to store)
    long valueCount = -1; // number of JSON values seen

    PendingInput(String kind, int index) {
      this.kind = kind;
      this.index = index;
    }

    String label() {
      return name != null ? kind + " '" + name + "'" : kind + "s[" + index + "]";
    }
  }

  final byte[] json; // holds the JSON part at [base, base + jsonLength)
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
  List<OutputSelection.Requested> outputs = List.of();
  Map<String, Object> parameters = Map.of();
  boolean binaryDataOutput;

  /** A reader of a request body, validated against the model's signature. */
  BodyReader(
      Buffer body,
      int jsonLength,
      List<TensorSpec> modelInputs,
      List<TensorSpec> modelOutputs,
      boolean direct) {
    ByteBuf view = BinaryData.nettyView(body);
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

  /** A parser over the JSON part. */
  JsonParser parser() throws IOException {
    return Json.FACTORY.createParser(json, base, jsonLength);
  }

  void parseBody(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t != JsonToken.START_OBJECT) {
      throw new BadInputException("the request must be a JSON object, got " + describe(p, t));
    }
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      switch (field) {
        case "id" -> id = readId(p, t);
        case "inputs" -> parseTensors(p, t, "input");
        case "outputs" -> parseOutputs(p, t);
        case "parameters" -> parseParameters(p, t);
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
      throw new BadInputException(
          "malformed JSON: unexpected content after the request object at byte "
              + end
              + " (binary tensor data needs the "
              + HEADER_LENGTH
              + " header)");
    }
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
    parameters = Json.readObject(p);
    Object bdo = parameters.get("binary_data_output");
    if (bdo != null && !(bdo instanceof Boolean)) {
      throw new BadInputException(
          "parameters.binary_data_output must be true or false, got " + bdo);
    }
    binaryDataOutput = Boolean.TRUE.equals(bdo);
  }

  void parseTensors(JsonParser p, JsonToken t, String kind) throws IOException {
    if (t != JsonToken.START_ARRAY) {
      throw new BadInputException(
          "'" + kind + "s' must be an array of " + kind + " objects, got " + describe(p, t));
    }
    sawInputs = true;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      int index = inputs.size();
      if (t != JsonToken.START_OBJECT) {
        throw new BadInputException(
            kind + "s[" + index + "] must be an object, got " + describe(p, t));
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
            throw new BadInputException(
                in.label() + ": 'name' must be a string, got " + describe(p, t));
          }
          in.name = p.getText();
        }
        case "datatype" -> {
          if (t != JsonToken.VALUE_STRING) {
            throw new BadInputException(
                in.label() + ": 'datatype' must be a string, got " + describe(p, t));
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
      throw new BadInputException(
          in.label() + ": 'shape' must be an array of integers, got " + describe(p, t));
    }
    long[] dims = new long[4];
    int n = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.VALUE_NUMBER_INT) {
        throw new BadInputException(
            in.label()
                + ": 'shape' must be an array of integers, got "
                + describe(p, t)
                + " in it");
      }
      if (n == InferRequestDecoder.MAX_RANK) {
        throw new BadInputException(
            in.label() + ": shape has more than " + InferRequestDecoder.MAX_RANK + " dimensions");
      }
      if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        throw new BadInputException(
            in.label() + ": shape dimension " + truncate(p.getText()) + " is too large");
      }
      if (n == dims.length) dims = Arrays.copyOf(dims, n * 2);
      dims[n++] = p.getLongValue();
    }
    return Arrays.copyOf(dims, n);
  }

  void readInputParameters(JsonParser p, JsonToken t, PendingInput in) throws IOException {
    if (t != JsonToken.START_OBJECT) {
      throw new BadInputException(
          in.label() + ": 'parameters' must be an object, got " + describe(p, t));
    }
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      t = p.nextToken();
      if (field.equals("binary_data_size")) {
        if (t != JsonToken.VALUE_NUMBER_INT
            || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
            || p.getLongValue() < 0) {
          throw new BadInputException(
              in.label()
                  + ": binary_data_size must be a non-negative integer, got "
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
    if (spec != null && in.datatype != null && in.shape != null) {
      // the usual field order (name, shape, datatype, data): validate, then parse in one pass
      long start = p.currentTokenLocation().getByteOffset();
      long count = checkHeader(in, spec);
      readValues(p, in, count, jsonLength - start);
    } else {
      // data came before what we need to interpret it: remember where it is, parse it after the
      // header
      in.dataStart = (int) p.currentTokenLocation().getByteOffset();
      p.skipChildren();
    }
  }

  void parseOutputs(JsonParser p, JsonToken t) throws IOException {
    outputs = OutputSelection.parse(p, t);
  }

  /** Checks an input's datatype and shape against the model and returns its element count. */
  long checkHeader(PendingInput in, TensorSpec spec) {
    if (spec != null && in.datatype != spec.datatype()) {
      throw new BadInputException(
          in.label()
              + ": datatype "
              + in.datatype
              + " does not match the model's "
              + spec.datatype());
    }
    if (in.datatype == Datatype.BYTES) {
      throw new BadInputException(in.label() + ": datatype BYTES is not supported by this server");
    }
    long minDim = 1;
    for (long d : in.shape) {
      if (d < minDim) {
        throw new BadInputException(
            in.label()
                + ": shape "
                + Arrays.toString(in.shape)
                + " has a dimension below "
                + minDim
                + " (every dimension must be at least "
                + minDim
                + ")");
      }
    }
    if (spec != null && !spec.accepts(in.shape)) {
      throw new BadInputException(
          in.label()
              + ": shape "
              + Arrays.toString(in.shape)
              + " does not match the model's "
              + Arrays.toString(spec.shape()));
    }
    long count = Tensor.elementCount(in.shape);
    if (count < 0 || count > Tensor.MAX_BYTES / in.datatype.byteSize()) {
      throw new BadInputException(
          in.label()
              + ": shape "
              + Arrays.toString(in.shape)
              + " is too large (over "
              + Tensor.MAX_BYTES
              + " bytes)");
    }
    return count;
  }

  /** Reads a (nested or flat) data array whose START_ARRAY is the current token. */
  void readValues(JsonParser p, PendingInput in, long count, long remainingBytes)
      throws IOException {
    JsonDataReader.read(p, in, count, remainingBytes, direct);
  }

  /** Validates what the body declared and builds the request's tensors. */
  InferRequest finish(Buffer body, Integer headerLength, int jsonLength) {
    return new InferRequest(
        id,
        tensors(body, headerLength, jsonLength),
        resolveOutputs(),
        binaryDataOutput,
        parameters);
  }

  private List<Tensor> tensors(Buffer body, Integer headerLength, int jsonLength) {
    checkNames();
    long[] counts = new long[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      PendingInput in = inputs.get(i);
      if (in.datatype == null) throw new BadInputException(in.label() + " has no 'datatype'");
      if (in.shape == null) throw new BadInputException(in.label() + " has no 'shape'");
      counts[i] = checkHeader(in, specs.get(in.name));
    }
    checkBatchDimension();
    return readTensors(body, headerLength, jsonLength, counts);
  }

  private void checkNames() {
    if (inputs.isEmpty()) {
      throw new BadInputException(
          (sawInputs ? "the request's 'inputs' is empty" : "the request has no 'inputs'")
              + "; the model expects "
              + describe(modelInputs));
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
        throw new BadInputException(
            "inputs disagree on the batch dimension: '"
                + batchRef.name
                + "' has "
                + batchRef.shape[0]
                + " rows, '"
                + in.name
                + "' has "
                + in.shape[0]);
      }
    }
  }

  List<Tensor> readTensors(Buffer body, Integer headerLength, int jsonLength, long[] counts) {
    BinaryData.checkSizes(inputs, counts, headerLength, (long) body.length() - jsonLength);
    List<Tensor> tensors = new ArrayList<>(inputs.size());
    int offset = jsonLength;
    for (int i = 0; i < inputs.size(); i++) {
      PendingInput in = inputs.get(i);
      ByteBuffer data;
      if (in.binarySize != null) {
        data = BinaryData.copy(body, offset, (int) (long) in.binarySize, in, direct);
        offset += (int) (long) in.binarySize;
      } else {
        if (in.valueCount < 0) readDeferred(in, counts[i]);
        if (in.valueCount != counts[i]) {
          throw new BadInputException(
              in.label()
                  + ": shape "
                  + Arrays.toString(in.shape)
                  + " needs "
                  + counts[i]
                  + " values, got "
                  + in.valueCount);
        }
        data = in.values;
      }
      tensors.add(Tensor.of(in.name, in.datatype, in.shape, data));
    }
    return tensors;
  }

  void readDeferred(PendingInput in, long count) {
    try (JsonParser p =
        Json.FACTORY.createParser(json, base + in.dataStart, jsonLength - in.dataStart)) {
      p.nextToken();
      readValues(p, in, count, jsonLength - in.dataStart);
    } catch (JsonProcessingException e) {
      throw malformed(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<RequestedOutput> resolveOutputs() {
    return OutputSelection.resolve(outputs, modelOutputs, binaryDataOutput);
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
}
