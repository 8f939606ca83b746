package ai.distill.gateway.grpc;

import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import com.google.protobuf.Message;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.ArrayList;
import java.util.List;

/** A blocking test client of the OIP gRPC service on Vert.x's gRPC client (h2c). */
final class OipGrpcClient {

  record Failure(GrpcStatus status, String message) {}

  private final GrpcClient client;
  private final SocketAddress address;

  OipGrpcClient(Vertx vertx, int port) {
    this.client =
        GrpcClient.client(
            vertx,
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  static <Q extends Message, R extends Message> ServiceMethod<R, Q> method(
      String name, R defaultResponse) {
    return ServiceMethod.client(
        GrpcInferenceService.SERVICE,
        name,
        GrpcMessageEncoder.encoder(),
        GrpcMessageDecoder.decoder(defaultResponse));
  }

  <Q extends Message, R extends Message> R call(String name, Q request, R defaultResponse) {
    return call(name, request, defaultResponse, null);
  }

  <Q extends Message, R extends Message> R call(
      String name, Q request, R defaultResponse, String authorization) {
    return call(name, request, defaultResponse, authorization, "identity");
  }

  /** A call whose request message is compressed with {@code encoding} (gzip) by the client. */
  <Q extends Message, R extends Message> R call(
      String name, Q request, R defaultResponse, String authorization, String encoding) {
    return client
        .request(address, OipGrpcClient.<Q, R>method(name, defaultResponse))
        .compose(
            req -> {
              req.encoding(encoding);
              if (authorization != null) {
                req.headers().set("authorization", authorization);
              }
              req.end(request);
              return req.response();
            })
        .compose(
            resp ->
                resp.last()
                    .recover(
                        e ->
                            io.vertx.core.Future.failedFuture(
                                new IllegalStateException(
                                    resp.status() + ": " + resp.statusMessage(), e))))
        .await();
  }

  Failure fail(String name, Message request) {
    return failRaw(name, Buffer.buffer(request.toByteArray()));
  }

  /** A call that ends without sending any message. */
  Failure failWithoutMessage(String name) {
    return failRaw(name, null);
  }

  Failure failRaw(String name, Buffer body) {
    ServiceMethod<Buffer, Buffer> m =
        ServiceMethod.client(
            GrpcInferenceService.SERVICE,
            name,
            GrpcMessageEncoder.IDENTITY,
            GrpcMessageDecoder.IDENTITY);
    GrpcClientResponse<Buffer, Buffer> resp =
        client
            .request(address, m)
            .compose(
                req -> {
                  if (body == null) {
                    req.end();
                  } else {
                    req.end(body);
                  }
                  return req.response();
                })
            .await();
    resp.handler(b -> {});
    resp.end().otherwiseEmpty().await();
    return new Failure(resp.status(), resp.statusMessage());
  }

  /** Sends every message on one ModelStreamInfer call and returns every response. */
  List<ModelStreamInferResponse> stream(List<Buffer> messages) {
    ServiceMethod<ModelStreamInferResponse, Buffer> m =
        ServiceMethod.client(
            GrpcInferenceService.SERVICE,
            "ModelStreamInfer",
            GrpcMessageEncoder.IDENTITY,
            GrpcMessageDecoder.decoder(ModelStreamInferResponse.getDefaultInstance()));
    List<ModelStreamInferResponse> out = new ArrayList<>();
    client
        .request(address, m)
        .compose(
            req -> {
              for (Buffer b : messages) {
                req.write(b);
              }
              req.end();
              return req.response();
            })
        .compose(
            resp -> {
              resp.handler(out::add);
              return resp.end();
            })
        .await();
    return out;
  }

  void close() {
    client.close().await();
  }
}
