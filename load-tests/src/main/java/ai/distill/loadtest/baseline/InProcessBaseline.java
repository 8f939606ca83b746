package ai.distill.loadtest.baseline;

import ai.distill.gateway.tensor.OrtTypes;
import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.ClosedLoopGenerator;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.Outcome;
import ai.distill.loadtest.generator.RequestSender;
import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The physical limit the gateway is compared with: ONNX Runtime in this process, on the same model
 * file, batch size (rows per request) and intra-op threads, with no HTTP, JSON or batching around
 * it. {@link #run} drives {@code workers} threads each running batches back to back, measured with
 * the same windows and stability rule as the gateway. Owns the session and the prepared input
 * tensors and closes them in {@link #close()}; not thread-safe.
 */
public final class InProcessBaseline implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final ModelMetadata signature;
  private final int intraOpThreads;
  private final List<Map<String, OnnxTensor>> batches = new ArrayList<>();

  private InProcessBaseline(OrtSession session, ModelMetadata signature, int intraOpThreads) {
    this.session = session;
    this.signature = signature;
    this.intraOpThreads = intraOpThreads;
  }

  /**
   * Opens {@code modelFile} with all graph optimizations and {@code intraOpThreads} intra-op
   * threads.
   */
  public static InProcessBaseline open(Path modelFile, int intraOpThreads) {
    if (!Files.isRegularFile(modelFile)) {
      throw new LoadTestException("model file not found: " + modelFile);
    }
    if (intraOpThreads < 1) {
      throw new LoadTestException("intra-op threads : " + intraOpThreads + " (expected: >= 1)");
    }
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      OrtSession session =
          OrtEnvironment.getEnvironment().createSession(modelFile.toString(), options);
      return new InProcessBaseline(
          session, signature(modelFile.getFileName().toString(), session), intraOpThreads);
    } catch (OrtException e) {
      throw new LoadTestException(
          "ONNX Runtime cannot load " + modelFile + ": " + e.getMessage(), e);
    }
  }

  /** The model's inputs in OIP terms, so rows can be checked the same way as for the gateway. */
  public ModelMetadata signature() {
    return signature;
  }

  public int intraOpThreads() {
    return intraOpThreads;
  }

  /**
   * Runs batches of {@code rowsPerBatch} rows (cycling through {@code rows}) on {@code workers}
   * threads until stable; each batch's latency is one sample.
   */
  public RunResult run(List<InputRow> rows, int rowsPerBatch, int workers, LoadOptions options) {
    RequestBodies.checkFits(signature, rows);
    prepare(rows, rowsPerBatch, 16);
    ExecutorService pool = Executors.newFixedThreadPool(workers, named());
    try {
      RequestSender sender =
          new RequestSender() {
            @Override
            public Future<Outcome> send(long i) {
              Promise<Outcome> promise = Promise.promise();
              pool.execute(
                  () -> promise.complete(runOnce(batches.get((int) (i % batches.size())))));
              return promise.future();
            }

            @Override
            public int rowsPerRequest() {
              return rowsPerBatch;
            }
          };
      return new ClosedLoopGenerator(sender, options.withMaxOutstanding(Math.max(workers, 1)))
          .run(workers);
    } finally {
      pool.shutdown();
      try {
        pool.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Outcome runOnce(Map<String, OnnxTensor> inputs) {
    long start = System.nanoTime();
    try (OrtSession.Result result = session.run(inputs)) {
      return Outcome.response(200, start, System.nanoTime(), null);
    } catch (OrtException | RuntimeException e) {
      return Outcome.failure("ort_" + e.getClass().getSimpleName(), start, System.nanoTime());
    }
  }

  private void prepare(List<InputRow> rows, int rowsPerBatch, int maxBatches) {
    closeBatches();
    int count =
        (int) Math.max(1, Math.min(maxBatches, (rows.size() + rowsPerBatch - 1) / rowsPerBatch));
    int cursor = 0;
    try {
      for (int b = 0; b < count; b++) {
        Map<String, OnnxTensor> batch = new LinkedHashMap<>();
        batches.add(batch);
        for (TensorSpec spec : signature.inputs()) {
          int per = rows.get(0).inputs().get(spec.name()).length;
          ByteBuffer buffer =
              ByteBuffer.allocateDirect(per * rowsPerBatch * width(spec.datatype()))
                  .order(ByteOrder.nativeOrder());
          for (int r = 0; r < rowsPerBatch; r++) {
            for (double v : rows.get((cursor + r) % rows.size()).inputs().get(spec.name())) {
              switch (spec.datatype()) {
                case FP32 -> buffer.putFloat((float) v);
                case FP64 -> buffer.putDouble(v);
                case INT64 -> buffer.putLong((long) v);
                case INT32 -> buffer.putInt((int) v);
                default -> buffer.put((byte) v);
              }
            }
          }
          buffer.flip();
          long[] shape = batchShape(spec, rowsPerBatch, per);
          batch.put(
              spec.name(),
              switch (spec.datatype()) {
                case FP32 -> OnnxTensor.createTensor(env, buffer.asFloatBuffer(), shape);
                case FP64 -> OnnxTensor.createTensor(env, buffer.asDoubleBuffer(), shape);
                case INT64 -> OnnxTensor.createTensor(env, buffer.asLongBuffer(), shape);
                case INT32 -> OnnxTensor.createTensor(env, buffer.asIntBuffer(), shape);
                case INT8 -> OnnxTensor.createTensor(env, buffer, shape, OnnxJavaType.INT8);
                case UINT8 -> OnnxTensor.createTensor(env, buffer, shape, OnnxJavaType.UINT8);
                case BOOL -> OnnxTensor.createTensor(env, buffer, shape, OnnxJavaType.BOOL);
                default ->
                    throw new LoadTestException(
                        "input '"
                            + spec.name()
                            + "' has datatype "
                            + spec.datatype()
                            + ", which the in-process baseline does not support");
              });
        }
        cursor = (cursor + rowsPerBatch) % rows.size();
      }
    } catch (OrtException e) {
      throw new LoadTestException(
          "cannot build input tensors for the baseline: " + e.getMessage(), e);
    }
  }

  /** [rows, the model's non-batch dims] when they are static, else [rows, elements per row]. */
  static long[] batchShape(TensorSpec spec, int rows, int perRow) {
    long[] model = spec.shape();
    if (model.length > 1 && spec.elementsPerRow() >= 0) {
      long[] shape = model.clone();
      shape[0] = rows;
      return shape;
    }
    return model.length <= 1 ? new long[] {rows} : new long[] {rows, perRow};
  }

  static ModelMetadata signature(String name, OrtSession session) throws OrtException {
    return new ModelMetadata(
        name, List.of(), specs(session.getInputInfo()), specs(session.getOutputInfo()));
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo info : infos.values()) {
      if (info.getInfo() instanceof TensorInfo t) {
        specs.add(new TensorSpec(info.getName(), datatype(info.getName(), t), t.getShape()));
      }
    }
    return specs;
  }

  private static Datatype datatype(String input, TensorInfo info) {
    try {
      return OrtTypes.datatype(info);
    } catch (IllegalArgumentException e) {
      throw new LoadTestException(
          "input '"
              + input
              + "': "
              + e.getMessage()
              + ", which the in-process baseline does not support");
    }
  }

  private static int width(Datatype datatype) {
    return switch (datatype) {
      case FP64, INT64 -> 8;
      case FP32, INT32 -> 4;
      default -> 1;
    };
  }

  private static java.util.concurrent.ThreadFactory named() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "baseline-ort-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private void closeBatches() {
    for (Map<String, OnnxTensor> batch : batches) {
      batch.values().forEach(OnnxTensor::close);
    }
    batches.clear();
  }

  @Override
  public void close() {
    closeBatches();
    try {
      session.close();
    } catch (OrtException e) {
      throw new LoadTestException("cannot close the ONNX Runtime session: " + e.getMessage(), e);
    }
  }
}
