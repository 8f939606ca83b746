package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Encodes an Open Inference Protocol v2 inference response with Jackson's streaming {@link
 * JsonGenerator} straight into a Vert.x {@link Buffer}: JSON outputs carry flat {@code data} and
 * their shape; outputs requested as binary (Triton's binary tensor data extension) carry {@code
 * parameters.binary_data_size} and their little-endian bytes follow the JSON header in output
 * order.
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
   * @param body the HTTP body
   * @param inferenceHeaderContentLength the JSON header's length when binary data follows it, else
   *     null
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
   * @param modelName {@code model_name}
   * @param modelVersion {@code model_version}, omitted when null
   * @param id {@code id}, omitted when null
   * @param outputs the output tensors the model produced for this request
   * @param requested the request's outputs: which to return in which order and which as binary;
   *     empty returns every output in {@code outputs} order
   * @param binaryDataOutput whether outputs are binary when {@code requested} is empty
   * @param parameters response-level {@code parameters} (plain Java values: String, Number,
   *     Boolean, null, Map, Collection), omitted when null or empty
   * @throws IllegalArgumentException when a requested output is not among {@code outputs} (a server
   *     bug: the decoder checked names against the model)
   */
  public Encoded encode(
      String modelName,
      String modelVersion,
      String id,
      List<Tensor> outputs,
      List<RequestedOutput> requested,
      boolean binaryDataOutput,
      Map<String, Object> parameters) {
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
          throw new IllegalArgumentException(
              "requested output '"
                  + r.name()
                  + "' is not among the outputs "
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
    try (JsonGenerator g = Json.FACTORY.createGenerator(new Json.BufferOutputStream(body))) {
      g.writeStartObject();
      g.writeStringField("model_name", modelName);
      if (modelVersion != null) g.writeStringField("model_version", modelVersion);
      if (id != null) g.writeStringField("id", id);
      if (parameters != null && !parameters.isEmpty()) {
        g.writeFieldName("parameters");
        Json.writeValue(g, parameters);
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
          Json.writeData(g, t);
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
      if (binary.get(i)) Json.appendLittleEndian(body, selected.get(i));
    }
    return new Encoded(body, headerLength);
  }
}
