package ai.distill.loadtest.transport;

import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives Triton's bidirectional {@code ModelStreamInfer}: {@code streams} calls, each keeping at
 * most {@code window} messages of {@code rowsPerRequest} rows unanswered (and honouring the call's
 * write queue), for a warm-up then a measured interval; counts the rows answered in the interval.
 */
public final class GrpcStreamDriver {

  private static final ServiceMethod<ModelStreamInferResponse, ModelInferRequest> STREAM =
      ServiceMethod.client(
          GrpcUnarySender.SERVICE,
          "ModelStreamInfer",
          GrpcMessageEncoder.encoder(),
          GrpcMessageDecoder.decoder(ModelStreamInferResponse.getDefaultInstance()));

  private final Vertx vertx;
  private final SocketAddress address;
  private final TransportPayloads payloads;

  public GrpcStreamDriver(Vertx vertx, String host, int port, TransportPayloads payloads) {
    this.vertx = vertx;
    this.address = SocketAddress.inetSocketAddress(port, host);
    this.payloads = payloads;
  }

  /** Runs and blocks until done; call from a non-event-loop thread. */
  public StreamRate run(int streams, int window, Duration warmup, Duration measure) {
    GrpcClient client = GrpcUnarySender.h2c(vertx);
    AtomicLong rows = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    long from = start + warmup.toNanos();
    long to = from + measure.toNanos();
    List<Future<Void>> calls = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      Promise<Void> done = Promise.promise();
      calls.add(done.future());
      vertx
          .getOrCreateContext()
          .runOnContext(
              v ->
                  client
                      .request(address, STREAM)
                      .onFailure(done::tryFail)
                      .onSuccess(req -> drive(req, window, from, to, rows, errors, done)));
    }
    try {
      Future.all(calls).await();
    } finally {
      client.close().await();
    }
    return new StreamRate("grpc stream", rows.get(), measure.toNanos() / 1e9, errors.get());
  }

  private void drive(
      GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> req,
      int window,
      long from,
      long to,
      AtomicLong rows,
      AtomicLong errors,
      Promise<Void> done) {
    long[] outstanding = {0};
    long[] next = {0};
    boolean[] ended = {false};
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (!ended[0] && outstanding[0] < window && !req.writeQueueFull()) {
            if (System.nanoTime() >= to) {
              ended[0] = true;
              req.end();
              return;
            }
            outstanding[0]++;
            req.write(payloads.request(next[0]++));
          }
        };
    req.drainHandler(v -> pump[0].run());
    req.response()
        .onFailure(done::tryFail)
        .onSuccess(
            resp -> {
              resp.handler(
                  r -> {
                    outstanding[0]--;
                    long now = System.nanoTime();
                    if (!r.getErrorMessage().isEmpty()) {
                      errors.incrementAndGet();
                    } else if (now >= from && now < to) {
                      rows.addAndGet(payloads.rowsPerRequest());
                    }
                    pump[0].run();
                  });
              resp.endHandler(v -> done.tryComplete());
              resp.exceptionHandler(done::tryFail);
            });
    pump[0].run();
  }
}
