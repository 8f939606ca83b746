package ai.distill.gateway.fuzz;

import ai.distill.gateway.grpc.proto.InferParameter;
import ai.distill.gateway.grpc.proto.InferTensorContents;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators of hostile {@code ModelInferRequest} messages for the OIP gRPC service: random
 * bytes, valid messages truncated or with bytes flipped, and well-formed protobuf that lies: wrong
 * datatypes, shapes whose products overflow, negative and huge dimensions, typed contents of the
 * wrong type or count, {@code raw_input_contents} whose sizes lie, more raw entries than inputs,
 * hostile model names and versions, unknown outputs and parameters of the wrong type. Pure: no I/O.
 */
final class HostileGrpc {

  private HostileGrpc() {}

  /** One hostile message; {@code clientFault} false when it may be valid by chance. */
  record Message(String surface, byte[] bytes, boolean clientFault) {
    @Override
    public String toString() {
      String b = Arrays.toString(Arrays.copyOf(bytes, Math.min(bytes.length, 64)));
      String parsed;
      try {
        parsed = ModelInferRequest.parseFrom(bytes).toString().replace("\n", " ");
      } catch (Exception e) {
        parsed = "<not a ModelInferRequest>";
      }
      if (parsed.length() > 600) {
        parsed = parsed.substring(0, 600) + "...";
      }
      return surface + " (" + bytes.length + " bytes " + b + "): " + parsed;
    }
  }

  static final float[] DENSE = {0.5f, -1.25f, 2f, 1f, 0f, -0.5f};
  static final long[] SPARSE = {1, 9, 0, 3};

  /** A valid two-row request for the CTR model {@code model}, typed or raw contents. */
  static ModelInferRequest valid(String model, boolean raw) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setId("v");
    InferInputTensor.Builder dense =
        InferInputTensor.newBuilder().setName("dense").setDatatype("FP32").addShape(2).addShape(3);
    InferInputTensor.Builder sparse =
        InferInputTensor.newBuilder()
            .setName("sparse")
            .setDatatype("INT64")
            .addShape(2)
            .addShape(2);
    if (raw) {
      b.addInputs(dense).addInputs(sparse);
      b.addRawInputContents(floats(DENSE)).addRawInputContents(longs(SPARSE));
    } else {
      InferTensorContents.Builder d = InferTensorContents.newBuilder();
      for (float f : DENSE) {
        d.addFp32Contents(f);
      }
      InferTensorContents.Builder s = InferTensorContents.newBuilder();
      for (long l : SPARSE) {
        s.addInt64Contents(l);
      }
      b.addInputs(dense.setContents(d)).addInputs(sparse.setContents(s));
    }
    return b.build();
  }

  static ByteString floats(float[] values) {
    ByteBuffer d = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : values) {
      d.putFloat(f);
    }
    return ByteString.copyFrom(d.flip());
  }

  static ByteString longs(long[] values) {
    ByteBuffer s = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long l : values) {
      s.putLong(l);
    }
    return ByteString.copyFrom(s.flip());
  }

  /** Every family of hostile messages. */
  static Arbitrary<Message> messages() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, randomBytes()),
        net.jqwik.api.Tuple.of(2, corrupted()),
        net.jqwik.api.Tuple.of(6, lying()));
  }

  static Arbitrary<Message> randomBytes() {
    return Arbitraries.bytes()
        .array(byte[].class)
        .ofMaxSize(2_000)
        .map(b -> new Message("grpc/random", b, false));
  }

  /** A valid message cut short or with a few bytes overwritten (may still parse and be valid). */
  static Arbitrary<Message> corrupted() {
    Arbitrary<byte[]> valid =
        Arbitraries.of("ctr", "ctr-b", "ab")
            .flatMap(m -> Arbitraries.of(true, false).map(raw -> valid(m, raw).toByteArray()));
    Arbitrary<Message> truncated =
        Combinators.combine(valid, Arbitraries.integers().between(0, 999))
            .as(
                (b, f) ->
                    new Message(
                        "grpc/truncated",
                        Arrays.copyOf(b, (int) (b.length * (f / 1000.0))),
                        false));
    Arbitrary<Message> flipped =
        Combinators.combine(
                valid,
                Arbitraries.integers().between(0, 10_000).list().ofMinSize(1).ofMaxSize(4),
                Arbitraries.bytes())
            .as(
                (b, positions, value) -> {
                  byte[] copy = b.clone();
                  for (int p : positions) {
                    copy[p % copy.length] = value;
                  }
                  return new Message("grpc/flipped", copy, false);
                });
    return Arbitraries.oneOf(truncated, flipped);
  }

  private static final List<String> DATATYPES =
      List.of("FP32", "FP64", "FP16", "INT64", "INT32", "BOOL", "BYTES", "UINT8", "", "fp32", "X");

  /** Well-formed protobuf whose content lies. Each mutation, when chosen, makes it invalid. */
  static Arbitrary<Message> lying() {
    Arbitrary<String> model =
        Arbitraries.oneOf(
            Arbitraries.of("ctr", "ctr-b", "ab"),
            Arbitraries.of("ctr", "ab"),
            HostileRequests.hostileNames());
    Arbitrary<String> version =
        Arbitraries.of("", "", "", "1", "0", "-1", "x", "99999999999999999999");
    Arbitrary<long[]> shape =
        Arbitraries.of(
            new long[] {2, 3},
            new long[] {2, 3},
            new long[] {Long.MAX_VALUE, 3},
            new long[] {1L << 32, 1L << 32},
            new long[] {-1, 3},
            new long[] {0, 3},
            new long[] {1_000_000, 3},
            new long[] {},
            new long[] {6},
            new long[33],
            new long[] {2, -3});
    Arbitrary<Integer> count = Arbitraries.of(6, 6, 0, 1, 5, 7, 30_000);
    Arbitrary<String> contentKind =
        Arbitraries.of("fp32", "fp32", "raw", "int64", "fp64", "bytes", "both", "none");
    Arbitrary<Integer> rawDelta = Arbitraries.of(0, 0, -1, 1, -24, 4096, 3);
    Arbitrary<String> extra =
        Arbitraries.of(
            "none",
            "none",
            "none",
            "dupInput",
            "missingSparse",
            "unknownInput",
            "extraRaw",
            "unknownOutput",
            "binaryParam",
            "userIdInt",
            "sparseRange",
            "nanData");
    return Combinators.combine(
            model, version, Arbitraries.of(DATATYPES), shape, count, contentKind, rawDelta, extra)
        .as(HostileGrpc::build);
  }

  private static Message build(
      String model,
      String version,
      String datatype,
      long[] shape,
      int count,
      String kind,
      int rawDelta,
      String extra) {
    // A legal name may exist: the admin fuzz's optimize jobs publish models under such names.
    boolean fault =
        !(List.of("ctr", "ctr-b", "ab").contains(model) || HostileRequests.mayExist(model))
            || !(version.isEmpty() || version.equals("1"))
            || !datatype.equals("FP32")
            || !Arrays.equals(shape, new long[] {2, 3})
            || count != 6
            || !(kind.equals("fp32") || kind.equals("raw"))
            || (kind.equals("raw") && rawDelta != 0)
            || !(extra.equals("none") || extra.equals("userIdInt"));
    ModelInferRequest.Builder b =
        ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version).setId("h");
    InferInputTensor.Builder dense =
        InferInputTensor.newBuilder().setName("dense").setDatatype(datatype);
    for (long d : shape) {
      dense.addShape(d);
    }
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = DENSE[i % DENSE.length];
    }
    if (extra.equals("nanData") && count > 0) {
      values[count - 1] = Float.NaN;
    }
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    switch (kind) {
      case "fp32", "both" -> {
        for (float f : values) {
          c.addFp32Contents(f);
        }
      }
      case "int64" -> {
        for (float f : values) {
          c.addInt64Contents((long) f);
        }
      }
      case "fp64" -> {
        for (float f : values) {
          c.addFp64Contents(f);
        }
      }
      case "bytes" -> c.addBytesContents(ByteString.copyFromUtf8("0.5"));
      default -> {
        // raw or none: no typed contents
      }
    }
    boolean raw = kind.equals("raw") || kind.equals("both");
    if (!kind.equals("raw") && !kind.equals("none")) {
      dense.setContents(c);
    }
    long[] sparseValues = extra.equals("sparseRange") ? new long[] {1, 9, -5, 1L << 40} : SPARSE;
    InferInputTensor.Builder sparse =
        InferInputTensor.newBuilder()
            .setName("sparse")
            .setDatatype("INT64")
            .addShape(2)
            .addShape(2);
    if (!raw) {
      InferTensorContents.Builder s = InferTensorContents.newBuilder();
      for (long l : sparseValues) {
        s.addInt64Contents(l);
      }
      sparse.setContents(s);
    }
    b.addInputs(dense);
    if (!extra.equals("missingSparse")) {
      b.addInputs(sparse);
    }
    if (extra.equals("dupInput")) {
      b.addInputs(dense);
    }
    if (extra.equals("unknownInput")) {
      b.addInputs(InferInputTensor.newBuilder().setName("../x").setDatatype("FP32").addShape(1));
    }
    if (raw) {
      ByteString d = floats(values);
      int n = Math.max(0, d.size() + rawDelta);
      List<ByteString> raws = new ArrayList<>();
      raws.add(
          n <= d.size()
              ? d.substring(0, n)
              : d.concat(ByteString.copyFrom(new byte[n - d.size()])));
      if (!extra.equals("missingSparse")) {
        raws.add(longs(sparseValues));
      }
      if (extra.equals("extraRaw")) {
        raws.add(ByteString.copyFrom(new byte[12]));
      }
      raws.forEach(b::addRawInputContents);
    }
    if (extra.equals("unknownOutput")) {
      b.addOutputs(InferRequestedOutputTensor.newBuilder().setName("nope\u0000"));
    }
    if (extra.equals("binaryParam")) {
      b.putParameters("binary_data_size", InferParameter.newBuilder().setStringParam("-1").build());
      b.addOutputs(
          InferRequestedOutputTensor.newBuilder()
              .setName("prob")
              .putParameters("binary_data", InferParameter.newBuilder().setInt64Param(-7).build()));
    }
    if (extra.equals("userIdInt")) {
      b.putParameters("user_id", InferParameter.newBuilder().setDoubleParam(Double.NaN).build());
    }
    return new Message("grpc/" + extra + "/" + kind, b.build().toByteArray(), fault);
  }
}
