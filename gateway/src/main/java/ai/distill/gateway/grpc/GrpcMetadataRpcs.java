package ai.distill.gateway.grpc;

import ai.distill.gateway.grpc.proto.ModelMetadataRequest;
import ai.distill.gateway.grpc.proto.ModelMetadataResponse;
import ai.distill.gateway.grpc.proto.ModelMetadataResponse.TensorMetadata;
import ai.distill.gateway.grpc.proto.ModelReadyRequest;
import ai.distill.gateway.grpc.proto.ModelReadyResponse;
import ai.distill.gateway.grpc.proto.ModelRepositoryParameter;
import ai.distill.gateway.grpc.proto.RepositoryIndexRequest;
import ai.distill.gateway.grpc.proto.RepositoryIndexResponse;
import ai.distill.gateway.grpc.proto.RepositoryModelLoadRequest;
import ai.distill.gateway.grpc.proto.RepositoryModelLoadResponse;
import ai.distill.gateway.grpc.proto.RepositoryModelUnloadRequest;
import ai.distill.gateway.grpc.proto.RepositoryModelUnloadResponse;
import ai.distill.gateway.grpc.proto.ServerLiveRequest;
import ai.distill.gateway.grpc.proto.ServerLiveResponse;
import ai.distill.gateway.grpc.proto.ServerMetadataRequest;
import ai.distill.gateway.grpc.proto.ServerMetadataResponse;
import ai.distill.gateway.grpc.proto.ServerReadyRequest;
import ai.distill.gateway.grpc.proto.ServerReadyResponse;
import ai.distill.gateway.http.AdminAuth;
import ai.distill.gateway.http.OipRoutes;
import ai.distill.gateway.runtime.LoadedModel;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.runtime.RepositoryIndex;
import ai.distill.store.tensor.TensorSpec;
import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.StatusException;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The OIP RPCs that do not infer: health, server and model metadata, and Triton's repository
 * extension (index; load and unload need the admin token as {@code authorization: Bearer <token>}
 * metadata, as HTTP needs it as a header). Answers match the HTTP endpoints'. Thread-safe.
 */
final class GrpcMetadataRpcs {

  private final ModelRegistry models;
  private final BooleanSupplier ready;
  private final AdminAuth adminAuth;

  GrpcMetadataRpcs(ModelRegistry models, BooleanSupplier ready, String adminToken) {
    this.models = models;
    this.ready = ready;
    this.adminAuth = new AdminAuth(adminToken);
  }

  void bind(GrpcServer server, long maxBytes) {
    Binder b = new Binder(server, maxBytes);
    b.unary(
        "ServerLive",
        ServerLiveRequest.getDefaultInstance(),
        r -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
    b.unary(
        "ServerReady",
        ServerReadyRequest.getDefaultInstance(),
        r ->
            Future.succeededFuture(
                ServerReadyResponse.newBuilder().setReady(ready.getAsBoolean()).build()));
    b.unary(
        "ServerMetadata",
        ServerMetadataRequest.getDefaultInstance(),
        r ->
            Future.succeededFuture(
                ServerMetadataResponse.newBuilder()
                    .setName(OipRoutes.SERVER_NAME)
                    .setVersion(OipRoutes.SERVER_VERSION)
                    .addAllExtensions(OipRoutes.EXTENSIONS)
                    .build()));
    b.unary("ModelReady", ModelReadyRequest.getDefaultInstance(), this::modelReady);
    b.unary("ModelMetadata", ModelMetadataRequest.getDefaultInstance(), this::modelMetadata);
    b.unary("RepositoryIndex", RepositoryIndexRequest.getDefaultInstance(), this::index);
    b.unary(
        "RepositoryModelLoad",
        RepositoryModelLoadRequest.getDefaultInstance(),
        this::adminRefusal,
        this::load);
    b.unary(
        "RepositoryModelUnload",
        RepositoryModelUnloadRequest.getDefaultInstance(),
        this::adminRefusal,
        this::unload);
  }

  /**
   * Registers unary RPCs whose request messages the gateway takes off the wire itself ({@link
   * GrpcMessages}): one that does not decode is INVALID_ARGUMENT, not a stream reset. A call the
   * {@code guard} refuses (admin RPCs without the token) is answered before its message is read.
   */
  private record Binder(GrpcServer server, long maxBytes) {

    <Q extends Message, R extends Message> void unary(
        String name,
        Q type,
        Function<GrpcServerRequest<?, ?>, StatusException> guard,
        Function<Q, Future<R>> rpc) {
      server.callHandler(
          ServiceMethod.server(
              GrpcInferenceService.SERVICE,
              name,
              GrpcMessageEncoder.<R>encoder(),
              GrpcMessageDecoder.IDENTITY),
          call -> {
            if (!GrpcInferenceService.supportedEncoding(call)) {
              return;
            }
            StatusException refused = guard.apply(call);
            if (refused != null) {
              GrpcErrors.fail(call.response(), refused);
              return;
            }
            GrpcMessages.unary(
                call,
                type,
                maxBytes,
                body -> {
                  Future<R> out;
                  try {
                    out = rpc.apply(GrpcMessages.parse(body, type));
                  } catch (RuntimeException e) {
                    out = Future.failedFuture(e);
                  }
                  out.onSuccess(r -> call.response().send(r))
                      .onFailure(e -> GrpcErrors.fail(call.response(), e));
                },
                e -> GrpcErrors.fail(call.response(), e));
          });
    }

    <Q extends Message, R extends Message> void unary(
        String name, Q type, Function<Q, Future<R>> rpc) {
      unary(name, type, call -> null, rpc);
    }
  }

  // An admin RPC needs the bearer token in the call's metadata: null when it is there.
  private StatusException adminRefusal(GrpcServerRequest<?, ?> call) {
    String header = call.headers().get("authorization");
    if (header == null || header.isBlank()) {
      return new StatusException(
          GrpcStatus.UNAUTHENTICATED,
          "admin RPC: send the admin token as 'authorization: Bearer <token>'"
              + " metadata (see --admin-token, DISTILL_ADMIN_TOKEN or <store>/admin.token)");
    }
    if (!adminAuth.matches(AdminAuth.bearerToken(header))) {
      return new StatusException(
          GrpcStatus.PERMISSION_DENIED, "admin token is wrong: use the gateway's admin token");
    }
    return null;
  }

  private Future<ModelReadyResponse> modelReady(ModelReadyRequest r) {
    Long version = GrpcInferenceService.version(r.getName(), r.getVersion());
    boolean loaded = models.isLoaded(r.getName(), version);
    return Future.succeededFuture(
        ModelReadyResponse.newBuilder().setReady(loaded && ready.getAsBoolean()).build());
  }

  private Future<ModelMetadataResponse> modelMetadata(ModelMetadataRequest r) {
    Long version = GrpcInferenceService.version(r.getName(), r.getVersion());
    LoadedModel model = models.acquire(r.getName(), version);
    try {
      ModelMetadataResponse.Builder b =
          ModelMetadataResponse.newBuilder().setName(r.getName()).setPlatform("onnxruntime_onnx");
      for (LoadedModel m : models.loaded(r.getName())) {
        b.addVersions(Long.toString(m.version()));
      }
      specs(model.signature().inputs()).forEach(b::addInputs);
      specs(model.signature().outputs()).forEach(b::addOutputs);
      b.putAllProperties(
          Map.of(
              "model_version", Long.toString(model.version()),
              "role", model.stored().role().toString().toLowerCase(java.util.Locale.ROOT),
              "max_batch_rows", Integer.toString(models.batching(r.getName()).maxBatchRows())));
      return Future.succeededFuture(b.build());
    } finally {
      model.release();
    }
  }

  private static List<TensorMetadata> specs(List<TensorSpec> specs) {
    return specs.stream()
        .map(
            s -> {
              TensorMetadata.Builder t =
                  TensorMetadata.newBuilder().setName(s.name()).setDatatype(s.datatype().name());
              for (long d : s.shape()) {
                t.addShape(d);
              }
              return t.build();
            })
        .toList();
  }

  private Future<RepositoryIndexResponse> index(RepositoryIndexRequest r) {
    return models
        .index()
        .map(
            entries -> {
              RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
              for (RepositoryIndex.Entry e : entries) {
                if (r.getReady() && !e.state().equals("READY")) {
                  continue;
                }
                b.addModels(
                    RepositoryIndexResponse.ModelIndex.newBuilder()
                        .setName(e.name())
                        .setVersion(Long.toString(e.version()))
                        .setState(e.state())
                        .setReason(e.reason()));
              }
              return b.build();
            });
  }

  private Future<RepositoryModelLoadResponse> load(RepositoryModelLoadRequest r) {
    Long version = requestedVersion(r.getModelName(), r.getParametersMap());
    return models
        .load(r.getModelName(), version, true)
        .map(m -> RepositoryModelLoadResponse.getDefaultInstance());
  }

  private Future<RepositoryModelUnloadResponse> unload(RepositoryModelUnloadRequest r) {
    Long version = requestedVersion(r.getModelName(), r.getParametersMap());
    return models
        .unload(r.getModelName(), version)
        .map(v -> RepositoryModelUnloadResponse.getDefaultInstance());
  }

  private static Long requestedVersion(String model, Map<String, ModelRepositoryParameter> params) {
    ModelRepositoryParameter p = params.get("version");
    if (p == null) {
      return GrpcInferenceService.version(model, "");
    }
    String v =
        switch (p.getParameterChoiceCase()) {
          case INT64_PARAM -> Long.toString(p.getInt64Param());
          case STRING_PARAM -> p.getStringParam();
          default -> "not a number";
        };
    return GrpcInferenceService.version(model, v);
  }
}
