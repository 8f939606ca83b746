package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Client side: encodes an inference request as OIP v2 JSON, sending the chosen inputs as binary
 * tensor data after the JSON header (Triton's binary tensor data extension). Test scope: the load
 * generator has its own ({@code ai.distill.loadtest.oip.RequestBodies}). Thread-safe.
 *
 * <pre>{@code
 * InferResponseEncoder.Encoded e = new InferRequestEncoder().encode(request, Set.of("dense", "sparse"));
 * client.post(path).putHeader("Content-Type", e.contentType())
 *       .putHeader(InferRequestDecoder.HEADER_LENGTH, String.valueOf(e.inferenceHeaderContentLength()))
 *       .sendBuffer(e.body());
 * }</pre>
 */
public final class InferRequestEncoder {

  /**
   * Encodes {@code request} with every input as JSON ({@code binaryInputs} false) or every input as
   * binary.
   */
  public InferResponseEncoder.Encoded encode(InferRequest request, boolean binaryInputs) {
    return encode(request, binaryInputs ? null : Set.of());
  }

  /**
   * Encodes {@code request}: the inputs named in {@code binaryInputs} (all when null) as binary
   * data, the others as flat JSON {@code data}; each requested output carries its {@code
   * binary_data} flag, and {@code binary_data_output} is sent when the request sets it.
   */
  public InferResponseEncoder.Encoded encode(InferRequest request, Set<String> binaryInputs) {
    long estimate = 256;
    for (Tensor t : request.inputs()) {
      estimate += 64 + (isBinary(t, binaryInputs) ? t.byteSize() : t.elementCount() * 12L);
    }
    Buffer body = Buffer.buffer((int) Math.min(estimate, 1 << 24));
    boolean anyBinary = false;
    try (JsonGenerator g = Json.FACTORY.createGenerator(new Json.BufferOutputStream(body))) {
      g.writeStartObject();
      if (request.id() != null) g.writeStringField("id", request.id());
      Map<String, Object> parameters = new LinkedHashMap<>(request.parameters());
      if (request.binaryDataOutput()) parameters.put("binary_data_output", true);
      if (!parameters.isEmpty()) {
        g.writeFieldName("parameters");
        Json.writeValue(g, parameters);
      }
      g.writeArrayFieldStart("inputs");
      for (Tensor t : request.inputs()) {
        g.writeStartObject();
        g.writeStringField("name", t.name());
        g.writeArrayFieldStart("shape");
        for (int d = 0; d < t.rank(); d++) g.writeNumber(t.dim(d));
        g.writeEndArray();
        g.writeStringField("datatype", t.datatype().name());
        if (isBinary(t, binaryInputs)) {
          anyBinary = true;
          g.writeObjectFieldStart("parameters");
          g.writeNumberField("binary_data_size", t.byteSize());
          g.writeEndObject();
        } else {
          g.writeArrayFieldStart("data");
          Json.writeData(g, t);
          g.writeEndArray();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      if (!request.outputs().isEmpty()) {
        g.writeArrayFieldStart("outputs");
        for (RequestedOutput o : request.outputs()) {
          g.writeStartObject();
          g.writeStringField("name", o.name());
          g.writeObjectFieldStart("parameters");
          g.writeBooleanField("binary_data", o.binary());
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!anyBinary) return new InferResponseEncoder.Encoded(body, null);
    int headerLength = body.length();
    for (Tensor t : request.inputs()) {
      if (isBinary(t, binaryInputs)) Json.appendLittleEndian(body, t);
    }
    return new InferResponseEncoder.Encoded(body, headerLength);
  }

  private static boolean isBinary(Tensor t, Set<String> binaryInputs) {
    return binaryInputs == null || binaryInputs.contains(t.name());
  }
}
