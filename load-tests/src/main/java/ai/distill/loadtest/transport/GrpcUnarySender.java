package ai.distill.loadtest.transport;

import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.loadtest.generator.Outcome;
import ai.distill.loadtest.generator.RequestSender;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;

/**
 * Sends OIP {@code ModelInfer} calls (raw input contents) over one h2c connection with Vert.x's
 * gRPC client, for the load generators. An OK call is outcome status 200, any other gRPC status a
 * failure naming it. Thread-safe: sends are handed to the client's event loop.
 */
public final class GrpcUnarySender implements RequestSender, AutoCloseable {

  static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");

  private static final ServiceMethod<ModelInferResponse, ModelInferRequest> MODEL_INFER =
      ServiceMethod.client(
          SERVICE,
          "ModelInfer",
          GrpcMessageEncoder.encoder(),
          GrpcMessageDecoder.decoder(ModelInferResponse.getDefaultInstance()));

  private final GrpcClient client;
  private final Context context;
  private final SocketAddress address;
  private final TransportPayloads payloads;

  /**
   * @param connections h2c connections the calls are spread over (a gateway serves each connection
   *     on one event loop: use at least as many as it has event loops)
   */
  public GrpcUnarySender(
      Vertx vertx,
      String host,
      int port,
      TransportPayloads payloads,
      int connections,
      int inFlight) {
    HttpClientOptions options =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false)
            .setTcpNoDelay(true)
            .setHttp2MultiplexingLimit(Math.max(1, (inFlight + connections - 1) / connections));
    this.client =
        GrpcClient.client(
            vertx,
            vertx
                .httpClientBuilder()
                .with(options)
                .with(new PoolOptions().setHttp2MaxSize(connections))
                .withConnectHandler(GrpcUnarySender::coalesceFlushes)
                .build());
    this.context = vertx.getOrCreateContext();
    this.address = SocketAddress.inetSocketAddress(port, host);
    this.payloads = payloads;
  }

  static GrpcClient h2c(Vertx vertx) {
    return GrpcClient.client(
        vertx,
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false)
                    .setTcpNoDelay(true))
            .withConnectHandler(GrpcUnarySender::coalesceFlushes)
            .build());
  }

  /**
   * Writes what one event-loop task sends (a call's headers, message and end of stream, which
   * Vert.x flushes one by one) to the socket at once, as grpc-java and grpcio do: one packet per
   * call, not three.
   */
  static void coalesceFlushes(HttpConnection connection) {
    if (connection instanceof ConnectionBase c) {
      c.channelHandlerContext().pipeline().addFirst(new FlushConsolidationHandler(256, true));
    }
  }

  @Override
  public Future<Outcome> send(long i) {
    Promise<Outcome> done = Promise.promise();
    ModelInferRequest request = payloads.request(i);
    context.runOnContext(
        v -> {
          long sent = System.nanoTime();
          client
              .request(address, MODEL_INFER)
              .compose(
                  req -> {
                    req.end(request);
                    return req.response();
                  })
              .compose(
                  resp ->
                      resp.last()
                          .transform(
                              ar ->
                                  Future.succeededFuture(
                                      resp.status() == GrpcStatus.OK && ar.succeeded()
                                          ? Outcome.response(200, sent, System.nanoTime(), null)
                                          : Outcome.failure(
                                              "grpc " + resp.status() + ": " + resp.statusMessage(),
                                              sent,
                                              System.nanoTime()))))
              .onComplete(
                  ar ->
                      done.complete(
                          ar.succeeded()
                              ? ar.result()
                              : Outcome.failure(
                                  "grpc: " + ar.cause().getMessage(), sent, System.nanoTime())));
        });
    return done.future();
  }

  @Override
  public int rowsPerRequest() {
    return payloads.rowsPerRequest();
  }

  @Override
  public void close() {
    client.close();
  }
}
