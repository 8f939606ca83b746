package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.Datatype;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Client side, test scope: decodes an Open Inference Protocol v2 inference response, JSON or with
 * binary tensor data after the JSON header, into tensors, with the server's {@link BodyReader}
 * pieces. It checks the body's own consistency (shapes, element counts, binary sizes) but knows no
 * model signature. Thread-safe.
 */
public final class InferResponseDecoder {

  /**
   * A decoded inference response.
   *
   * @param modelName {@code model_name}
   * @param modelVersion {@code model_version}, null when absent
   * @param id {@code id}, null when absent
   * @param outputs the output tensors in response order
   * @param parameters response-level parameters as plain Java values, never null
   */
  public record InferResponse(
      String modelName,
      String modelVersion,
      String id,
      List<Tensor> outputs,
      Map<String, Object> parameters) {

    public InferResponse {
      outputs = List.copyOf(outputs);
      parameters =
          parameters == null
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
    }

    /** The output with this name, or null. */
    public Tensor output(String name) {
      for (Tensor t : outputs) {
        if (t.name().equals(name)) return t;
      }
      return null;
    }
  }

  /**
   * Decodes a response body.
   *
   * @param body the whole HTTP body
   * @param inferenceHeaderContentLength the {@code Inference-Header-Content-Length} header, null
   *     when absent
   * @throws BadInputException when the body is not a consistent OIP inference response
   */
  public InferResponse decode(Buffer body, Integer inferenceHeaderContentLength) {
    try {
      int jsonLength = InferRequestDecoder.jsonLength(body, inferenceHeaderContentLength);
      // The server's request reader, without a signature: it reads the 'outputs' tensors as it
      // reads inputs.
      BodyReader reader = new BodyReader(body, jsonLength, List.of(), List.of(), false);
      String modelName = null;
      String modelVersion = null;
      try (JsonParser p = reader.parser()) {
        JsonToken t = p.nextToken();
        if (t != JsonToken.START_OBJECT) {
          throw new BadInputException(
              "the response must be a JSON object, got " + BodyReader.describe(p, t));
        }
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          t = p.nextToken();
          switch (field) {
            case "id" -> reader.id = reader.readId(p, t);
            case "outputs" -> reader.parseTensors(p, t, "output");
            case "parameters" -> reader.parseParameters(p, t);
            case "model_name" -> modelName = string(p, t, field);
            case "model_version" -> modelVersion = string(p, t, field);
            default -> p.skipChildren();
          }
        }
        if (p.nextToken() != null) {
          throw new BadInputException(
              "malformed JSON: unexpected content after the response object");
        }
      }
      if (modelName == null) {
        throw new BadInputException("the response has no 'model_name'");
      }
      if (!reader.sawInputs) {
        throw new BadInputException("the response has no 'outputs'");
      }
      List<BodyReader.PendingInput> outputs = reader.inputs;
      long[] counts = new long[outputs.size()];
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < counts.length; i++) {
        BodyReader.PendingInput out = outputs.get(i);
        if (out.name == null) throw new BadInputException(out.label() + " has no 'name'");
        if (!seen.add(out.name))
          throw new BadInputException(out.label() + " appears more than once");
        if (out.datatype == null) throw new BadInputException(out.label() + " has no 'datatype'");
        if (out.shape == null) throw new BadInputException(out.label() + " has no 'shape'");
        if (out.datatype == Datatype.BYTES)
          throw new BadInputException(out.label() + ": BYTES is not supported");
        for (long d : out.shape) {
          if (d < 0)
            throw new BadInputException(
                out.label() + ": negative dimension in " + Arrays.toString(out.shape));
        }
        counts[i] = Tensor.elementCount(out.shape);
        if (counts[i] < 0 || counts[i] > Tensor.MAX_BYTES / out.datatype.byteSize()) {
          throw new BadInputException(
              out.label() + ": shape " + Arrays.toString(out.shape) + " is too large");
        }
      }
      return new InferResponse(
          modelName,
          modelVersion,
          reader.id,
          reader.readTensors(body, inferenceHeaderContentLength, jsonLength, counts),
          reader.parameters);
    } catch (NumberFormatException e) {
      throw new BadInputException("malformed number: " + e.getMessage());
    } catch (JsonProcessingException e) {
      throw InferRequestDecoder.malformed(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String string(JsonParser p, JsonToken t, String field) throws IOException {
    if (t == JsonToken.VALUE_NULL) return null;
    if (t != JsonToken.VALUE_STRING) {
      throw new BadInputException(
          "'" + field + "' must be a string, got " + BodyReader.describe(p, t));
    }
    return p.getText();
  }
}
