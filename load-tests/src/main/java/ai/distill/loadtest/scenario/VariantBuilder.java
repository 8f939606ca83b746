package ai.distill.loadtest.scenario;

import ai.distill.optimizer.distill.DistillJob;
import ai.distill.optimizer.distill.DistillOptions;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.quant.QuantizeOptions;
import ai.distill.optimizer.quant.QuantizeResult;
import ai.distill.optimizer.quant.Quantizer;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.Row;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds the compressed variants the report compares, with the optimizer, into a store: an INT8
 * copy of the model ({@code <model>-int8}, static QDQ with the optimizer's accuracy gate) and a
 * distilled student ({@code <model>-student}). A variant that cannot be built is reported, not
 * fatal: the optimizer refuses INT8 results that fail its gate or run slower than FP32. Blocking;
 * runs on the calling thread.
 */
public final class VariantBuilder {
  private VariantBuilder() {}

  /** The names published; {@code notes} receives one line per variant (built or why not). */
  public static List<String> build(
      ModelStore store, String model, Path labelledRows, Consumer<String> notes) {
    List<String> built = new ArrayList<>();
    ModelVersion source = store.resolve(model);
    try {
      List<Row> rows = Quantizer.readRows(labelledRows, 4000);
      QuantizeOptions options = QuantizeOptions.defaults();
      Quantizer.Split split = Quantizer.split(rows, options);
      QuantizeResult result =
          Quantizer.quantize(
              OnnxModel.load(source.modelFile()), split.calibration(), split.heldOut(), options);
      ModelVersion v =
          store.publish(
              PublishRequest.fromBytes(
                  model + "-int8", result.model(), Role.STUDENT, source.id(), Map.of()));
      built.add(v.name());
      notes.accept(v.id() + ": INT8 (static QDQ) of " + source.id());
    } catch (Exception e) {
      notes.accept(model + "-int8: not built (" + e.getMessage() + ")");
    }
    try {
      DistillJob.Outcome outcome =
          DistillJob.run(
              store,
              new DistillJob.Request(
                  model,
                  labelledRows,
                  0,
                  null,
                  20_000,
                  model + "-student",
                  DistillOptions.defaults(),
                  false),
              line -> {});
      built.add(outcome.student().name());
      notes.accept(outcome.student().id() + ": distilled student of " + source.id());
    } catch (Exception e) {
      notes.accept(model + "-student: not built (" + e.getMessage() + ")");
    }
    return built;
  }
}
