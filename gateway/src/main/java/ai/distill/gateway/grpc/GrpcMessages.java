package ai.distill.gateway.grpc;

import ai.distill.gateway.protocol.BadInputException;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.server.GrpcServerRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * Request messages taken off the wire by the gateway rather than by Vert.x's decoders, so that
 * every message that lies ends its call with a status naming the problem instead of a stream reset
 * or no answer at all (Vert.x 5.0.7 resets the stream when a generated message or gzip data does
 * not decode, and its deframer throws, leaving the call unanswered, on a message flagged compressed
 * in a call without {@code grpc-encoding}):
 *
 * <ul>
 *   <li>gzip is inflated here, bounded by the gRPC message limit (a small message that inflates
 *       past it is RESOURCE_EXHAUSTED, not an allocation of whatever it claims); gzip data that
 *       does not inflate is INVALID_ARGUMENT;
 *   <li>a message flagged compressed in a call that declared no compression ({@code grpc-encoding}
 *       absent or {@code identity}) is INVALID_ARGUMENT: gRPC's HTTP/2 protocol says the flag must
 *       then be 0. (grpc-java and grpc-go answer INTERNAL; the gateway keeps INTERNAL for its own
 *       faults, and this one is the client's.) To see the flag, {@link #markUnencoded} gives such a
 *       call a private encoding name before Vert.x reads it: Vert.x then labels the flagged
 *       messages with that name and the others {@code identity}.
 * </ul>
 *
 * Stateless.
 */
final class GrpcMessages {

  /** The encoding name a call without one gets while Vert.x sets up its deframer. */
  static final String UNENCODED = "x-distill-unencoded";

  private static final String ENCODING = "grpc-encoding";

  private GrpcMessages() {}

  /**
   * Gives a call that declared no compression the private encoding name; true when it did, then
   * {@link #unmark} must follow once Vert.x has taken the call.
   */
  static boolean markUnencoded(MultiMap headers) {
    String encoding = headers.get(ENCODING);
    if (encoding != null && !encoding.equals("identity")) {
      return false;
    }
    try {
      headers.set(ENCODING, UNENCODED);
      return true;
    } catch (UnsupportedOperationException e) {
      return false; // read-only headers: Vert.x then handles the flag as before
    }
  }

  /** Restores the call's headers as the client sent them (no {@code grpc-encoding}). */
  static void unmark(MultiMap headers) {
    headers.remove(ENCODING);
  }

  /** The call's declared encoding, null when none (or identity). */
  static String encoding(MultiMap headers) {
    String encoding = headers.get(ENCODING);
    return encoding == null || encoding.equals(UNENCODED) || encoding.equals("identity")
        ? null
        : encoding;
  }

  /**
   * The message's protobuf bytes, inflated when it is compressed.
   *
   * @throws BadInputException 400 when the message cannot be read, 413 when it inflates past {@code
   *     maxBytes}
   */
  static Buffer payload(GrpcMessage message, long maxBytes) {
    return switch (message.encoding()) {
      case "identity" -> message.payload();
      case "gzip" -> gunzip(message.payload(), maxBytes);
      case UNENCODED ->
          throw new BadInputException(
              "the message is flagged compressed but the call declares no grpc-encoding"
                  + " (send grpc-encoding: gzip, or flag 0 for an uncompressed message)");
      default ->
          throw new BadInputException(
              "grpc-encoding '" + message.encoding() + "' is not supported (use identity or gzip)");
    };
  }

  private static Buffer gunzip(Buffer compressed, long maxBytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    try (GZIPInputStream in =
        new GZIPInputStream(new ByteArrayInputStream(compressed.getBytes()))) {
      for (int n; (n = in.read(chunk)) > 0; ) {
        if (out.size() + (long) n > maxBytes) {
          throw new BadInputException(
              413,
              "the message inflates to more than the gateway's gRPC message limit ("
                  + maxBytes
                  + " bytes)");
        }
        out.write(chunk, 0, n);
      }
    } catch (IOException e) {
      throw new BadInputException(
          "the message is flagged gzip-compressed but does not inflate: " + e.getMessage());
    }
    return Buffer.buffer(out.toByteArray());
  }

  /**
   * Parses {@code body} as {@code type}'s message.
   *
   * @throws BadInputException when it is not one
   */
  @SuppressWarnings("unchecked")
  static <Q extends Message> Q parse(Buffer body, Q type) {
    try {
      return (Q) type.getParserForType().parseFrom(body.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new BadInputException(
          "malformed " + type.getDescriptorForType().getName() + ": " + e.getMessage());
    }
  }

  /**
   * Reads the one message of a unary call: {@code onMessage} gets its protobuf bytes; a message
   * that cannot be read, a call that ends without one, or one over the message limit goes to {@code
   * onRefused} (which must end the call). Messages after the first are ignored.
   */
  static void unary(
      GrpcServerRequest<Buffer, ?> call,
      Message type,
      long maxBytes,
      Consumer<Buffer> onMessage,
      Consumer<RuntimeException> onRefused) {
    boolean[] received = new boolean[1];
    call.invalidMessageHandler(
        e -> {
          if (received[0]) {
            return;
          }
          received[0] = true;
          if (e instanceof MessageSizeOverflowException) {
            GrpcErrors.fail(
                call.response(),
                GrpcStatus.RESOURCE_EXHAUSTED,
                "the message is larger than the gateway's gRPC message limit");
          } else {
            onRefused.accept(GrpcInferenceService.invalidMessage(e));
          }
        });
    call.messageHandler(
        message -> {
          if (received[0]) {
            return;
          }
          received[0] = true;
          Buffer body;
          try {
            body = payload(message, maxBytes);
          } catch (BadInputException e) {
            onRefused.accept(e);
            return;
          }
          onMessage.accept(body);
        });
    call.endHandler(
        v -> {
          if (!received[0]) {
            received[0] = true;
            onRefused.accept(
                new BadInputException(
                    call.methodName()
                        + " needs one "
                        + type.getDescriptorForType().getName()
                        + " message; the call ended without one"));
          }
        });
  }
}
