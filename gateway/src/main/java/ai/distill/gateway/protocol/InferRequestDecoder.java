package ai.distill.gateway.protocol;

import ai.distill.gateway.tensor.InferRequest;
import ai.distill.store.tensor.TensorSpec;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Decodes an Open Inference Protocol v2 inference request body, JSON or with Triton's binary tensor
 * data extension, and validates it against the model's signature. Tensor data is streamed with
 * Jackson's {@link JsonParser} straight into native-order buffers, never through boxed values;
 * binary inputs are copied once out of the body. Every problem the client can fix is a {@link
 * BadInputException} naming the input with what was expected and what was received.
 *
 * <pre>{@code
 * InferRequest req = new InferRequestDecoder().decode(body,
 *         InferRequestDecoder.parseHeaderLength(ctx.request().getHeader("Inference-Header-Content-Length")),
 *         model.inputs(), model.outputs());
 * }</pre>
 *
 * <p>Stateless and thread-safe; it does blocking-free CPU work only, proportional to the body size.
 */
public final class InferRequestDecoder {

  /** The HTTP header giving the length of the JSON part when binary tensor data follows it. */
  public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  /** Most dimensions a request shape may have. */
  static final int MAX_RANK = 32;

  private final boolean directBuffers;

  /**
   * A decoder that puts tensor data in heap buffers (cheap per request; the batcher copies into
   * direct).
   */
  public InferRequestDecoder() {
    this(false);
  }

  /**
   * A decoder that puts tensor data in direct buffers when {@code directBuffers}, else heap
   * buffers.
   */
  public InferRequestDecoder(boolean directBuffers) {
    this.directBuffers = directBuffers;
  }

  /**
   * The value of the {@value #HEADER_LENGTH} header as an Integer: null when the header is absent.
   *
   * @throws BadInputException when present but not a non-negative decimal integer
   */
  public static Integer parseHeaderLength(String value) {
    if (value == null) return null;
    String v = value.trim();
    try {
      int n = Integer.parseInt(v);
      if (n >= 0 && !v.startsWith("+")) return n;
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new BadInputException(
        HEADER_LENGTH
            + " '"
            + truncate(value)
            + "' is not a byte count (expected: a non-negative integer)");
  }

  /**
   * Decodes and validates one request.
   *
   * @param body the whole HTTP body
   * @param inferenceHeaderContentLength length of the JSON part, the rest being binary tensor data;
   *     null when the header is absent (then the whole body is JSON)
   * @param modelInputs the model's input signature
   * @param modelOutputs the model's output signature (for requested output names)
   * @return the request, inputs in request order with unique names covering exactly the model's
   *     inputs
   * @throws BadInputException for anything the client must fix
   */
  public InferRequest decode(
      Buffer body,
      Integer inferenceHeaderContentLength,
      List<TensorSpec> modelInputs,
      List<TensorSpec> modelOutputs) {
    int jsonLength = jsonLength(body, inferenceHeaderContentLength);
    BodyReader d = new BodyReader(body, jsonLength, modelInputs, modelOutputs, directBuffers);
    try (JsonParser p = d.parser()) {
      d.parseBody(p);
    } catch (NumberFormatException e) {
      throw new BadInputException("malformed number: " + e.getMessage());
    } catch (JsonProcessingException e) {
      throw malformed(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen on a byte[] source
    }
    try {
      return d.finish(body, inferenceHeaderContentLength, jsonLength);
    } catch (
        NumberFormatException
            e) { // Jackson's number limits; the values we convert are checked first
      throw new BadInputException("malformed number: " + e.getMessage());
    }
  }

  /** The length of the JSON part of a body, checked against the body. */
  static int jsonLength(Buffer body, Integer inferenceHeaderContentLength) {
    int bodyLength = body.length();
    int jsonLength = bodyLength;
    if (inferenceHeaderContentLength != null) {
      int h = inferenceHeaderContentLength;
      if (h < 0) {
        throw new BadInputException(
            HEADER_LENGTH + " " + h + " is negative (expected: the byte length of the JSON part)");
      }
      if (h > bodyLength) {
        throw new BadInputException(
            HEADER_LENGTH + " " + h + " exceeds the body's " + bodyLength + " bytes");
      }
      jsonLength = h;
    }
    if (jsonLength == 0) {
      throw new BadInputException(
          "the body has no JSON part (expected: a JSON object, optionally followed by binary tensor data)");
    }
    return jsonLength;
  }

  static BadInputException malformed(JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String where =
        loc == null || loc.getLineNr() < 0
            ? ""
            : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    String msg = e.getOriginalMessage();
    // Jackson describes the source in nested locations ("[Source: REDACTED (...); line: 1, column:
    // 1]"): keep line/column
    msg = msg.replaceAll("\\[Source: [^;\\]]*; ", "[");
    msg = msg.replaceAll(", from `[^`]*`", ""); // parser-limit messages name Jackson's setting
    return new BadInputException("malformed JSON" + where + ": " + msg);
  }

  static String truncate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }
}
