package ai.distill.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.gateway.stream.StreamStats;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import com.google.protobuf.ByteString;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ModelStreamInfer} clients that misbehave: one that sends and never reads is reset with
 * RESOURCE_EXHAUSTED once {@code stream.stall_timeout_ms} passes, one that cancels mid-stream is
 * forgotten; either way everything the call held is released.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcStreamStallTest {

  static final int ROWS = 256; // per message: a 3 KB answer, so unread answers fill the window

  @TempDir static Path dir;
  Vertx vertx;
  Gateway gateway;
  GrpcClient client;

  @BeforeAll
  void start() {
    ModelStore store = ModelStore.open(dir.resolve("store"));
    TestGateways.publish(store, "tiny", TinyModels.mlp(4, new int[] {4}, 3));
    vertx = TestGateways.strictVertx();
    gateway =
        Gateway.start(
                vertx,
                TestGateways.config(dir.resolve("store"))
                    .grpcPort(-1)
                    .streamStallTimeout(Duration.ofMillis(500))
                    .build())
            .await();
    client =
        GrpcClient.client(
            vertx,
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
  }

  @AfterAll
  void stop() {
    client.close().await();
    gateway.close().await();
    vertx.close().await();
  }

  static Buffer message(long i) {
    byte[] raw = new byte[ROWS * 4 * 4];
    raw[(int) (i % raw.length)] = 1;
    return Buffer.buffer(
        ModelInferRequest.newBuilder()
            .setModelName("tiny")
            .setId("m" + i)
            .addInputs(
                InferInputTensor.newBuilder()
                    .setName("x")
                    .setDatatype("FP32")
                    .addShape(ROWS)
                    .addShape(4))
            .addRawInputContents(ByteString.copyFrom(raw))
            .build()
            .toByteArray());
  }

  GrpcClientRequest<Buffer, Buffer> open() {
    ServiceMethod<Buffer, Buffer> m =
        ServiceMethod.client(
            GrpcInferenceService.SERVICE,
            "ModelStreamInfer",
            GrpcMessageEncoder.IDENTITY,
            GrpcMessageDecoder.IDENTITY);
    return client
        .request(SocketAddress.inetSocketAddress(gateway.grpcPort(), "127.0.0.1"), m)
        .await();
  }

  // Writes messages while HTTP/2 flow control lets it, until stopped.
  static void pump(GrpcClientRequest<Buffer, Buffer> req, AtomicLong sent, BooleanSupplier stop) {
    while (!stop.getAsBoolean() && !req.writeQueueFull()) {
      req.write(message(sent.getAndIncrement()));
    }
    if (!stop.getAsBoolean()) {
      req.drainHandler(v -> pump(req, sent, stop));
    }
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(condition.getAsBoolean(), what);
  }

  @Test
  void a_client_that_never_reads_is_reset_with_resource_exhausted_and_its_messages_freed()
      throws Exception {
    StreamStats stats = gateway.streamStats();
    long stalledBefore = stats.stalled();
    GrpcClientRequest<Buffer, Buffer> req = open();
    Promise<GrpcError> error = Promise.promise();
    AtomicLong sent = new AtomicLong();
    vertx.runOnContext(
        v -> {
          req.response()
              .onSuccess(
                  (GrpcClientResponse<Buffer, Buffer> resp) -> {
                    resp.errorHandler(error::tryComplete);
                    resp.pause(); // never reads an answer
                  });
          pump(req, sent, () -> error.future().isComplete());
        });
    GrpcError status = error.future().await(30, TimeUnit.SECONDS);
    assertEquals(GrpcError.RESOURCE_EXHAUSTED, status);
    assertEquals(stalledBefore + 1, stats.stalled(), "counted as a stalled stream");
    await(() -> stats.open() == 0, "the call is closed: " + stats.open() + " open");
    assertEquals(0, stats.heldMessages(), "no message is held for the stalled call");
    assertTrue(sent.get() > 8, "the client sent more than the window before it was cut off");
  }

  @Test
  void a_client_that_cancels_mid_stream_is_forgotten() throws Exception {
    StreamStats stats = gateway.streamStats();
    GrpcClientRequest<Buffer, Buffer> req = open();
    AtomicLong sent = new AtomicLong();
    AtomicLong answers = new AtomicLong();
    AtomicBoolean cancelled = new AtomicBoolean();
    vertx.runOnContext(
        v -> {
          req.response().onSuccess(resp -> resp.handler(b -> answers.incrementAndGet()));
          pump(req, sent, cancelled::get);
        });
    await(() -> answers.get() >= 50, "answers flow before the client cancels");
    vertx.runOnContext(
        v -> {
          cancelled.set(true);
          req.cancel();
        });
    await(() -> stats.open() == 0, "the cancelled call is closed: " + stats.open() + " open");
    await(() -> stats.heldMessages() == 0, "nothing held: " + stats.heldMessages());
    assertTrue(answers.get() < sent.get(), "cancelled before every answer arrived");
    assertEquals(List.of(), TestGateways.drainBlockedWarnings());
  }
}
