package ai.distill.gateway.grpc;

import ai.distill.gateway.grpc.proto.InferParameter;
import ai.distill.gateway.grpc.proto.InferTensorContents;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelSignature;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns an OIP {@code ModelInferRequest} into the gateway's validated {@link InferRequest}, with
 * the same checks and messages as the HTTP decoder: every model input present once and nothing
 * else, datatype and shape matching the signature, batch dimensions agreeing, values either typed
 * {@code contents} or {@code raw_input_contents} (little-endian, exactly shape × datatype bytes).
 * Every problem the client can fix is a {@link BadInputException}. Stateless and thread-safe.
 */
final class ProtoRequestDecoder {

  private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  InferRequest decode(ModelInferRequest request, ModelSignature signature) {
    List<TensorSpec> specs = signature.inputs();
    checkNames(request, specs);
    boolean raw = request.getRawInputContentsCount() > 0;
    if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
      throw new BadInputException(
          "raw_input_contents has "
              + request.getRawInputContentsCount()
              + " entries for "
              + request.getInputsCount()
              + " inputs (expected: one per input, in input order, or none)");
    }
    List<Tensor> tensors = new ArrayList<>(request.getInputsCount());
    long batch = -1;
    String batchInput = null;
    for (int i = 0; i < request.getInputsCount(); i++) {
      InferInputTensor in = request.getInputs(i);
      TensorSpec spec = signature.input(in.getName());
      String label = "input '" + in.getName() + "'";
      Datatype datatype = datatype(in.getDatatype(), label);
      if (datatype != spec.datatype()) {
        throw new BadInputException(
            label + ": datatype " + datatype + " does not match the model's " + spec.datatype());
      }
      long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
      for (long d : shape) {
        if (d < 1) {
          throw new BadInputException(
              label + ": shape " + Arrays.toString(shape) + " has a dimension below 1");
        }
      }
      if (!spec.accepts(shape)) {
        throw new BadInputException(
            label
                + ": shape "
                + Arrays.toString(shape)
                + " does not match the model's "
                + Arrays.toString(spec.shape()));
      }
      long count = Tensor.elementCount(shape);
      if (count < 0 || count > Tensor.MAX_BYTES / datatype.byteSize()) {
        throw new BadInputException(label + ": shape " + Arrays.toString(shape) + " is too large");
      }
      if (spec.batched()) {
        if (batchInput == null) {
          batch = shape[0];
          batchInput = in.getName();
        } else if (shape[0] != batch) {
          throw new BadInputException(
              "inputs disagree on the batch dimension: '"
                  + batchInput
                  + "' has "
                  + batch
                  + " rows, '"
                  + in.getName()
                  + "' has "
                  + shape[0]);
        }
      }
      ByteBuffer data =
          raw
              ? rawData(request.getRawInputContents(i), datatype, count, shape, label)
              : typedData(in, datatype, (int) count, shape, label);
      tensors.add(Tensor.of(in.getName(), datatype, shape, data));
    }
    String id = request.getId().isEmpty() ? null : request.getId();
    return new InferRequest(
        id, tensors, outputs(request, signature), false, parameters(request.getParametersMap()));
  }

  private static void checkNames(ModelInferRequest request, List<TensorSpec> specs) {
    if (request.getInputsCount() == 0) {
      throw new BadInputException(
          "the request has no 'inputs'; the model expects " + describe(specs));
    }
    Set<String> names = new HashSet<>();
    Set<String> known = new HashSet<>();
    specs.forEach(s -> known.add(s.name()));
    List<String> unexpected = new ArrayList<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      String name = request.getInputs(i).getName();
      if (name.isEmpty()) {
        throw new BadInputException("inputs[" + i + "] has no 'name'");
      }
      if (!names.add(name)) {
        throw new BadInputException("input '" + name + "' appears more than once");
      }
      if (!known.contains(name)) {
        unexpected.add(name);
      }
    }
    List<String> missing = new ArrayList<>();
    for (TensorSpec s : specs) {
      if (!names.contains(s.name())) {
        missing.add(s.name());
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      if (!missing.isEmpty()) {
        sb.append("missing input(s) ").append(missing);
      }
      if (!unexpected.isEmpty()) {
        sb.append(sb.length() > 0 ? " and " : "").append("unexpected input(s) ").append(unexpected);
      }
      throw new BadInputException(
          sb.append("; the model expects ").append(describe(specs)).toString());
    }
  }

  static String describe(List<TensorSpec> specs) {
    StringBuilder sb = new StringBuilder();
    for (TensorSpec s : specs) {
      sb.append(sb.length() > 0 ? ", " : "")
          .append(s.name())
          .append(' ')
          .append(s.datatype())
          .append(' ')
          .append(Arrays.toString(s.shape()));
    }
    return sb.toString();
  }

  private static Datatype datatype(String name, String label) {
    if (name.isEmpty()) {
      throw new BadInputException(label + " has no 'datatype'");
    }
    Datatype d;
    try {
      d = Datatype.parse(name);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(label + ": " + e.getMessage());
    }
    if (d == Datatype.BYTES) {
      throw new BadInputException(label + ": datatype BYTES is not supported by this server");
    }
    return d;
  }

  private static ByteBuffer rawData(
      ByteString raw, Datatype datatype, long count, long[] shape, String label) {
    long expected = count * datatype.byteSize();
    if (raw.size() != expected) {
      throw new BadInputException(
          label
              + ": raw_input_contents has "
              + raw.size()
              + " bytes, expected "
              + expected
              + " ("
              + count
              + " × "
              + datatype.byteSize()
              + " bytes for "
              + datatype
              + " "
              + Arrays.toString(shape)
              + ")");
    }
    ByteBuffer out = ByteBuffer.allocate((int) expected).order(ByteOrder.LITTLE_ENDIAN);
    raw.copyTo(out);
    out.flip();
    if (!LITTLE) {
      throw new UnsupportedOperationException("big-endian hosts are not supported");
    }
    if (datatype == Datatype.BOOL) {
      for (int i = 0; i < expected; i++) {
        if ((out.get(i) & 0xFE) != 0) {
          throw new BadInputException(
              label + ": raw BOOL value " + out.get(i) + " at index " + i + " is not 0 or 1");
        }
      }
    }
    return out.order(ByteOrder.nativeOrder());
  }

  private static ByteBuffer typedData(
      InferInputTensor in, Datatype datatype, int count, long[] shape, String label) {
    InferTensorContents c = in.getContents();
    int given =
        switch (datatype) {
          case BOOL -> c.getBoolContentsCount();
          case INT8, INT16, INT32 -> c.getIntContentsCount();
          case INT64 -> c.getInt64ContentsCount();
          case UINT8, UINT16, UINT32 -> c.getUintContentsCount();
          case UINT64 -> c.getUint64ContentsCount();
          case FP32 -> c.getFp32ContentsCount();
          case FP64 -> c.getFp64ContentsCount();
          default ->
              throw new BadInputException(
                  label + ": datatype " + datatype + " needs raw_input_contents");
        };
    if (given != count) {
      throw new BadInputException(
          label
              + ": shape "
              + Arrays.toString(shape)
              + " needs "
              + count
              + " values, got "
              + given
              + " in contents ("
              + contentsField(datatype)
              + ")");
    }
    ByteBuffer out =
        ByteBuffer.allocate(count * datatype.byteSize()).order(ByteOrder.nativeOrder());
    for (int i = 0; i < count; i++) {
      switch (datatype) {
        case BOOL -> out.put((byte) (c.getBoolContents(i) ? 1 : 0));
        case INT8 -> out.put((byte) ranged(c.getIntContents(i), -128, 127, label, i));
        case INT16 -> out.putShort((short) ranged(c.getIntContents(i), -32768, 32767, label, i));
        case INT32 -> out.putInt(c.getIntContents(i));
        case INT64 -> out.putLong(c.getInt64Contents(i));
        case UINT8 ->
            out.put((byte) ranged(Integer.toUnsignedLong(c.getUintContents(i)), 0, 255, label, i));
        case UINT16 ->
            out.putShort(
                (short) ranged(Integer.toUnsignedLong(c.getUintContents(i)), 0, 65535, label, i));
        case UINT32 -> out.putInt(c.getUintContents(i));
        case UINT64 -> out.putLong(c.getUint64Contents(i));
        case FP32 -> out.putFloat(c.getFp32Contents(i));
        case FP64 -> out.putDouble(c.getFp64Contents(i));
        default -> throw new IllegalStateException(datatype.name());
      }
    }
    return out.flip();
  }

  private static long ranged(long v, long min, long max, String label, int i) {
    if (v < min || v > max) {
      throw new BadInputException(
          label
              + ": value "
              + v
              + " at index "
              + i
              + " is out of range ["
              + min
              + ", "
              + max
              + "]");
    }
    return v;
  }

  private static String contentsField(Datatype d) {
    return switch (d) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case INT64 -> "int64_contents";
      case UINT8, UINT16, UINT32 -> "uint_contents";
      case UINT64 -> "uint64_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      default -> "raw_input_contents";
    };
  }

  private static List<RequestedOutput> outputs(ModelInferRequest request, ModelSignature sig) {
    List<RequestedOutput> out = new ArrayList<>();
    Set<String> known = new HashSet<>();
    sig.outputs().forEach(s -> known.add(s.name()));
    Set<String> seen = new HashSet<>();
    for (InferRequestedOutputTensor o : request.getOutputsList()) {
      if (!known.contains(o.getName())) {
        throw new BadInputException(
            "requested output '"
                + o.getName()
                + "' is not an output of the model (outputs: "
                + describe(sig.outputs())
                + ")");
      }
      if (!seen.add(o.getName())) {
        throw new BadInputException("output '" + o.getName() + "' is requested more than once");
      }
      out.add(new RequestedOutput(o.getName(), true));
    }
    return out;
  }

  /** Request parameters as the plain Java values HTTP's decoder produces. */
  static Map<String, Object> parameters(Map<String, InferParameter> params) {
    if (params.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, value(v)));
    return out;
  }

  private static Object value(InferParameter p) {
    return switch (p.getParameterChoiceCase()) {
      case BOOL_PARAM -> p.getBoolParam();
      case INT64_PARAM -> p.getInt64Param();
      case STRING_PARAM -> p.getStringParam();
      case DOUBLE_PARAM -> p.getDoubleParam();
      case UINT64_PARAM ->
          p.getUint64Param() >= 0
              ? (Object) p.getUint64Param()
              : new java.math.BigInteger(Long.toUnsignedString(p.getUint64Param()));
      case PARAMETERCHOICE_NOT_SET -> null;
    };
  }
}
