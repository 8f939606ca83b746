package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.Tensor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Client side: decodes an Open Inference Protocol v2 inference response, JSON or with binary tensor data
 * after the JSON header, into tensors. Used by the load generator and by tests; it checks the body's own
 * consistency (shapes, element counts, binary sizes) but knows no model signature. Thread-safe.
 */
public final class InferResponseDecoder {

    /**
     * A decoded inference response.
     *
     * @param modelName    {@code model_name}
     * @param modelVersion {@code model_version}, null when absent
     * @param id           {@code id}, null when absent
     * @param outputs      the output tensors in response order
     * @param parameters   response-level parameters as plain Java values, never null
     */
    public record InferResponse(String modelName, String modelVersion, String id, List<Tensor> outputs,
                                Map<String, Object> parameters) {

        public InferResponse {
            outputs = List.copyOf(outputs);
            parameters = parameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
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
     * @param body                         the whole HTTP body
     * @param inferenceHeaderContentLength the {@code Inference-Header-Content-Length} header, null when absent
     * @throws BadInputException when the body is not a consistent OIP inference response
     */
    public InferResponse decode(Buffer body, Integer inferenceHeaderContentLength) {
        int jsonLength = InferRequestDecoder.jsonLength(body, inferenceHeaderContentLength);
        BodyReader reader = new BodyReader(true, body, jsonLength, List.of(), List.of(), false);
        try (JsonParser p = reader.parser()) {
            reader.parseBody(p);
        } catch (NumberFormatException e) {
            throw new BadInputException("malformed number: " + e.getMessage());
        } catch (JsonProcessingException e) {
            throw InferRequestDecoder.malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return reader.finishResponse(body, inferenceHeaderContentLength, jsonLength);
        } catch (NumberFormatException e) { // Jackson's number limits; the values we convert are checked first
            throw new BadInputException("malformed number: " + e.getMessage());
        }
    }
}
