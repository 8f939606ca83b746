package ai.distill.gateway.grpc;

import ai.distill.gateway.InferPipeline;
import ai.distill.gateway.InferPipeline.Resolved;
import ai.distill.gateway.InferResult;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import ai.distill.gateway.metrics.GatewayMetrics.Transport;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.UnknownModelException;
import ai.distill.gateway.stream.StreamOptions;
import ai.distill.gateway.stream.StreamStats;
import ai.distill.gateway.tensor.InferRequest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The Open Inference Protocol v2 gRPC service ({@code inference.GRPCInferenceService}, see {@code
 * src/main/proto/inference.proto}) on Vert.x's gRPC server: health, metadata, {@code ModelInfer}
 * (typed contents or {@code raw_input_contents}), Triton's bidirectional {@code ModelStreamInfer}
 * and the repository RPCs. Inference goes through the same {@link InferPipeline} as HTTP (batchers,
 * experiments with {@code parameters.user_id}, capture, feedback ids, metrics with {@code
 * transport="grpc"}); errors map to the status codes of the HTTP statuses ({@link GrpcErrors}).
 *
 * <pre>{@code
 * var grpc = new GrpcInferenceService(vertx, pipeline, ready, token, options, stats).server(64 << 20);
 * vertx.createHttpServer(new HttpServerOptions().setPort(8081)).requestHandler(grpc).listen();
 * }</pre>
 *
 * <p>Handlers run on event loops and never block; thread-safe.
 */
public final class GrpcInferenceService {

  /** The service's fully qualified name, as Triton and KServe declare it. */
  public static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");

  /** gRPC stream messages in flight per {@code ModelStreamInfer} call. */
  static final int STREAM_MESSAGES_IN_FLIGHT = 8;

  private final Vertx vertx;
  private final InferPipeline pipeline;
  private final StreamOptions options;
  private final StreamStats stats;
  private final GrpcMetadataRpcs metadata;
  private final ProtoRequestDecoder decoder = new ProtoRequestDecoder();
  private final ProtoResponseEncoder encoder = new ProtoResponseEncoder();

  public GrpcInferenceService(
      Vertx vertx,
      InferPipeline pipeline,
      BooleanSupplier ready,
      String adminToken,
      StreamOptions options,
      StreamStats stats) {
    this.vertx = vertx;
    this.stats = stats;
    this.pipeline = pipeline;
    this.options = options;
    this.metadata = new GrpcMetadataRpcs(pipeline.models(), ready, adminToken);
  }

  /**
   * A gRPC server (an HTTP request handler) serving every RPC; messages up to {@code maxBytes}.
   * Each call of {@code ModelStreamInfer} keeps its HTTP/2 response, to reset a stalled stream with
   * the code gRPC clients read as RESOURCE_EXHAUSTED.
   */
  public Handler<HttpServerRequest> server(long maxBytes) {
    GrpcServer server =
        GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(maxBytes));
    metadata.bind(server, maxBytes);
    server.callHandler(
        ServiceMethod.server(
            SERVICE, "ModelInfer", GrpcMessageEncoder.encoder(), GrpcMessageDecoder.IDENTITY),
        (GrpcServerRequest<Buffer, ModelInferResponse> call) -> modelInfer(call, maxBytes));
    server.callHandler(
        ServiceMethod.server(
            SERVICE, "ModelStreamInfer", GrpcMessageEncoder.encoder(), GrpcMessageDecoder.IDENTITY),
        (GrpcServerRequest<Buffer, ModelStreamInferResponse> call) -> {
          HttpServerRequest http = DISPATCHING.get();
          new StreamInferCall(
                  vertx,
                  call,
                  http == null ? null : http.response(),
                  this,
                  maxBytes,
                  STREAM_MESSAGES_IN_FLIGHT,
                  options.stallTimeout(),
                  stats)
              .start();
        });
    // The gRPC server calls the handler of a call from within handle(): the HTTP request it is
    // dispatching is the call's. A call without compression is marked while Vert.x sets it up, so
    // that a message flagged compressed in it can be told apart (GrpcMessages).
    return request -> {
      boolean marked = GrpcMessages.markUnencoded(request.headers());
      DISPATCHING.set(request);
      try {
        server.handle(request);
      } finally {
        DISPATCHING.remove();
        if (marked) {
          GrpcMessages.unmark(request.headers());
        }
      }
    };
  }

  private static final ThreadLocal<HttpServerRequest> DISPATCHING = new ThreadLocal<>();

  /**
   * For the gRPC server's connections: what one event-loop task writes (a unary answer is a headers
   * frame, a message and the trailers, each flushed on its own by Vert.x) goes to the socket in one
   * write, not three: one packet and one wake-up of the client instead of three.
   */
  public static Handler<HttpConnection> connectionHandler() {
    return connection -> {
      if (connection instanceof HttpServerConnection c) {
        c.channelHandlerContext().pipeline().addFirst(new FlushConsolidationHandler(256, true));
      }
    };
  }

  // A unary call carries exactly one message: the answer goes to the first, and a call that ends
  // without one, or whose message cannot be read, is answered INVALID_ARGUMENT (GrpcMessages).
  private void modelInfer(GrpcServerRequest<Buffer, ModelInferResponse> call, long maxBytes) {
    long start = System.nanoTime();
    if (!supportedEncoding(call)) {
      return;
    }
    GrpcMessages.unary(
        call,
        ModelInferRequest.getDefaultInstance(),
        maxBytes,
        body ->
            infer(body, start, encoder::encode)
                .onSuccess(response -> call.response().send(response))
                .onFailure(e -> GrpcErrors.fail(call.response(), e)),
        e -> {
          pipeline.refused(null, e, Transport.GRPC);
          GrpcErrors.fail(call.response(), e);
        });
  }

  /**
   * A message Vert.x could not take off the wire (other than one over the size limit): answered
   * INVALID_ARGUMENT with the cause instead of a stream reset.
   */
  static BadInputException invalidMessage(Throwable e) {
    Throwable cause = e.getCause() == null ? e : e.getCause();
    return new BadInputException(
        "malformed message (not the protobuf of this RPC, or its compression does not decode): "
            + cause);
  }

  /**
   * Refuses a call whose {@code grpc-encoding} is neither identity nor gzip with UNIMPLEMENTED (as
   * gRPC's compression spec asks) instead of dropping its messages; false when refused.
   */
  static boolean supportedEncoding(GrpcServerRequest<?, ?> call) {
    String encoding = GrpcMessages.encoding(call.headers());
    if (encoding == null || encoding.equals("gzip")) {
      return true;
    }
    call.response().headers().set("grpc-accept-encoding", "identity,gzip");
    GrpcErrors.fail(
        call.response(),
        io.vertx.grpc.common.GrpcStatus.UNIMPLEMENTED,
        "grpc-encoding '" + encoding + "' is not supported (use identity or gzip)");
    return false;
  }

  /**
   * Parses, resolves, decodes, serves and encodes one request message; every failure is counted
   * with {@code transport="grpc"}. Never throws.
   */
  <T> Future<T> infer(Buffer body, long start, Function<InferResult, T> encode) {
    ModelInferRequest request;
    try {
      request = parse(body);
    } catch (BadInputException e) {
      pipeline.refused(null, e, Transport.GRPC);
      return Future.failedFuture(e);
    }
    return infer(request, start, encode);
  }

  /** Counts a message that could not be parsed as a refused gRPC request. */
  void refused(Throwable e) {
    pipeline.refused(null, e, Transport.GRPC);
  }

  /**
   * @throws BadInputException when {@code body} is not a ModelInferRequest
   */
  static ModelInferRequest parse(Buffer body) {
    try {
      return ModelInferRequest.parseFrom(body.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new BadInputException("malformed ModelInferRequest: " + e.getMessage());
    }
  }

  <T> Future<T> infer(ModelInferRequest request, long start, Function<InferResult, T> encode) {
    String name = request.getModelName();
    Resolved target;
    try {
      Long version;
      try {
        version = version(name, request.getModelVersion());
      } catch (RuntimeException e) {
        pipeline.refused(name, e, Transport.GRPC);
        throw e;
      }
      target = pipeline.resolve(name, version, Transport.GRPC, null); // counts its refusals
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    InferRequest decoded;
    try {
      decoded = decoder.decode(request, target.signature());
    } catch (RuntimeException e) {
      pipeline.rejected(target, InferPipeline.outcome(e), Transport.GRPC);
      return Future.failedFuture(e);
    }
    return pipeline.infer(target, decoded, Transport.GRPC, start, encode);
  }

  /** The inference response of a stream message. */
  ModelStreamInferResponse streamResponse(InferResult result) {
    return ModelStreamInferResponse.newBuilder().setInferResponse(encoder.encode(result)).build();
  }

  /** Parses {@code model_version}: empty means the default version. */
  static Long version(String model, String version) {
    if (model.isEmpty()) {
      throw new BadInputException("model_name is empty (expected: a model or experiment name)");
    }
    if (version.isEmpty()) {
      return null;
    }
    try {
      long v = Long.parseLong(version);
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new UnknownModelException(
        "model '"
            + model
            + "' has no version '"
            + version
            + "' (expected: a positive integer version such as \"1\", or empty for the default)");
  }
}
