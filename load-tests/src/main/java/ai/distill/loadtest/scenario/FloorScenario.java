package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.LoadOptions;
import ai.distill.loadtest.generator.OpenLoopGenerator;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.report.Measurement;
import ai.distill.optimizer.onnx.GraphBuilder;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The latency floor of the path around the model: the same requests, at the same rate, to a model
 * with the same inputs that does next to nothing (its first input flattened, cast to float and
 * summed per row). What remains of the p99 is HTTP, decoding, the batcher's hand-offs, the client
 * and the machine's scheduling noise, with the model's own time taken out. Publishes {@code
 * <model>-floor} into the gateway's store and waits (bounded) until the gateway serves it.
 */
public final class FloorScenario {
  /** Output name of the floor model. */
  static final String OUTPUT = "floor";

  private FloorScenario() {}

  /** The floor model for {@code metadata}'s inputs: one FP32 output [-1, 1]. */
  static byte[] model(ModelMetadata metadata) {
    GraphBuilder g = GraphBuilder.create("floor");
    for (TensorSpec in : metadata.inputs()) {
      g.input(in.name(), onnxType(in.datatype()), in.shape());
    }
    String first = metadata.inputs().get(0).name();
    g.flatten(first, "flat", 1)
        .cast("flat", "flat_f32", DataType.FLOAT)
        .initializerInt64("axes", new long[] {1}, 1)
        .node(
            "ReduceSum",
            List.of("flat_f32", "axes"),
            List.of(OUTPUT),
            GraphBuilder.attr("keepdims", 1L))
        .output(OUTPUT, DataType.FLOAT, -1, 1);
    return g.toBytes();
  }

  /**
   * Publishes the floor model next to {@code target}'s model, waits for the gateway to serve it and
   * measures it open-loop at {@code rate}.
   */
  public static Measurement run(
      GatewayTarget target, Path store, double rate, LoadOptions options, Duration loadTimeout) {
    String floorName = target.modelName() + "-floor";
    ModelStore.open(store)
        .publish(PublishRequest.fromBytes(floorName, model(target.metadata()), Role.TEACHER));
    GatewayTarget floor = awaitServed(target, floorName, loadTimeout);
    try {
      return floor.measure(
          "floor", () -> new OpenLoopGenerator(floor.sender(false), options).run(rate));
    } finally {
      floor.close();
    }
  }

  private static GatewayTarget awaitServed(GatewayTarget target, String model, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return target.forModel(model);
      } catch (LoadTestException e) {
        if (System.nanoTime() > deadline) {
          throw new LoadTestException(
              "the gateway did not load the floor model '"
                  + model
                  + "' within "
                  + timeout.toSeconds()
                  + " s: "
                  + e.getMessage(),
              e);
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LoadTestException("interrupted while waiting for the floor model");
      }
    }
  }

  static DataType onnxType(Datatype datatype) {
    return switch (datatype) {
      case BYTES ->
          throw new LoadTestException(
              "input datatype " + datatype + " has no ONNX type for the floor model");
      default -> DataType.forNumber(datatype.onnxElementType());
    };
  }
}
